/**
 * Work submitted while the head is down: the driver holds it until the head is back and then the
 * results are right (not an ObjectLostError blaming the caller); when the head does not come back
 * within the reconnect timeout, what is pending fails with HeadUnavailableError saying so.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, get, HeadUnavailableError, init, shutdown } from 'shoal';
// Not on the package's public surface: a head process is killed and started again by hand here.
// eslint-disable-next-line no-restricted-imports -- the head's process entry is what this test restarts
import { spawnEntry } from '../../../dist/src/core/index.js';
import { TestCluster } from '../../harness/test-cluster.js';
import { slowSquare, square } from '../../fixtures/core/index.js';

async function killHead(tc: TestCluster): Promise<void> {
  const old = tc.headProcess.child;
  const exited = new Promise<void>((resolve) => old.once('exit', () => resolve()));
  old.kill('SIGKILL');
  await exited;
}

async function startHeadAgain(tc: TestCluster): Promise<void> {
  const info = tc.headInfo;
  const head = await spawnEntry('head-main.js', { dir: info.dir, host: '127.0.0.1', port: info.port, watchParent: true }, {
    attached: true, logFile: join(info.dir, 'logs', 'head-restarted.log'),
  });
  tc.cluster.processes[0] = head;
}

describe('tasks submitted while the head is down and restarting', () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it('are held by the driver and run once the head is back', async () => {
    expect(await get(square.remote(3), { timeoutMs: 20_000 })).toBe(9);
    const before = slowSquare.remote(5, 500);
    await killHead(tc);
    const refs = [1, 2, 3, 4, 5, 6].map((x) => square.remote(x));
    const chained = square.remote(refs[1]!);
    await startHeadAgain(tc);
    expect(await get(refs, { timeoutMs: 60_000 })).toEqual([1, 4, 9, 16, 25, 36]);
    expect(await get(chained, { timeoutMs: 60_000 })).toBe(16);
    expect(await get(before, { timeoutMs: 60_000 })).toBe(25);
  }, 120_000);
});

describe('tasks submitted while the head is down for good', () => {
  let tc: TestCluster;
  const saved = process.env.SHOAL_RECONNECT_TIMEOUT_MS;
  beforeAll(async () => {
    process.env.SHOAL_RECONNECT_TIMEOUT_MS = '3000';
    tc = await TestCluster.start({ numWorkers: 1, numCpus: 1, connect: false });
    await init({ address: tc.address, token: tc.token });
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.SHOAL_RECONNECT_TIMEOUT_MS;
    else process.env.SHOAL_RECONNECT_TIMEOUT_MS = saved;
    await shutdown().catch(() => undefined);
    await tc?.stop();
  });

  it('fail with HeadUnavailableError after the reconnect timeout, saying the head is down', async () => {
    expect(await get(square.remote(2), { timeoutMs: 20_000 })).toBe(4);
    await killHead(tc);
    const ref = square.remote(7);
    const err = await get(ref, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeadUnavailableError);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ code: 'HEAD_UNAVAILABLE' });
    expect((err as Error).message).toContain(`cannot reach a shoal head at ${tc.address}: the head is unavailable`);
    expect((err as Error).message).toMatch(/did not come back within 3000 ms/);
    expect((err as Error).message).not.toMatch(/freed|driver that exited/);
  }, 60_000);
});

describe('a driver whose head is gone for good', () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await TestCluster.start({ numWorkers: 1, numCpus: 1, connect: false });
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it('still releases its object server and store on shutdown(), and its process exits by itself', async () => {
    const file = fileURLToPath(new URL('../../fixtures/core/lost-head-driver.mjs', import.meta.url));
    const child = spawn(process.execPath, [file], {
      env: { ...process.env, SHOAL_ADDRESS: tc.address, SHOAL_TOKEN: tc.token, SHOAL_RECONNECT_TIMEOUT_MS: '1500' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('ready')) resolve();
    }));
    // A process that keeps a handle open never exits: it is killed here, and its code is null.
    const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await ready;
    await killHead(tc);
    child.stdin.write('go\n');
    const code = await exited;
    clearTimeout(killer);
    expect(stdout, stderr).toMatch(/lost: (HeadUnavailableError|ConnectionError)/);
    expect(code, stderr).toBe(0);
  }, 90_000);
});
