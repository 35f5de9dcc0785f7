/**
 * A driver process's life: it connects to a running cluster, works, shuts down and exits by itself;
 * a driver or a worker of another shoal version is refused with the same typed error.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestCluster } from '../../harness/test-cluster.js';

let tc: TestCluster;
beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 1, connect: false });
});
afterAll(async () => {
  await tc?.stop();
});

function runDriver(file: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [file], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

it('a driver connected to a running cluster exits on its own after shutdown()', async () => {
  const file = fileURLToPath(new URL('../../fixtures/core/short-driver.mjs', import.meta.url));
  const r = await runDriver(file, { SHOAL_ADDRESS: tc.address, SHOAL_TOKEN: tc.token });
  expect(r.stdout.trim()).toBe('{"value":41}');
  expect(r.code).toBe(0);
  // Exited by itself (the 30 s killer would leave code null). How soon is a timing, not asserted
  // here: right after shutdown() resolves, the driver still has its object server (TCPServerWrap) and
  // a socket open — they close on their own shortly after.
});

it('the head forgets the driver once it is gone', async () => {
  // Nothing from the exited driver keeps the cluster busy.
  const { init, clusterStatus, shutdown } = await import('shoal');
  await init({ address: tc.address, token: tc.token });
  try {
    const s = await clusterStatus();
    expect(s.tasks).toEqual({ pending: 0, running: 0 });
    expect(s.nodes).toHaveLength(1);
  } finally {
    await shutdown();
  }
});

it('a driver of another shoal version is refused with VersionMismatchError naming both versions', async () => {
  const file = fileURLToPath(new URL('../../fixtures/core/other-version-driver.mjs', import.meta.url));
  const r = await runDriver(file, { SHOAL_ADDRESS: tc.address, SHOAL_TOKEN: tc.token, SHOAL_VERSION_OVERRIDE: '9.9.9-other' });
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { name: string; code: string; message: string; ctor: string };
  expect(out).toMatchObject({ ctor: 'VersionMismatchError', code: 'VERSION_MISMATCH' });
  expect(out.message).toMatch(/^shoal version mismatch: this process runs 9\.9\.9-other \(protocol \d+\), the head runs \d+\.\d+\.\d+ \(protocol \d+\)/);
});

it('a worker of another shoal version is refused with VersionMismatchError too, not a plain Error', async () => {
  const file = fileURLToPath(new URL('../../fixtures/core/other-version-worker.mjs', import.meta.url));
  const r = await runDriver(file, { SHOAL_ADDRESS: tc.address, SHOAL_TOKEN: tc.token, SHOAL_VERSION_OVERRIDE: '9.9.9-other' });
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { name: string; code: string; message: string; ctor: string };
  expect(out).toMatchObject({ ctor: 'VersionMismatchError', name: 'VersionMismatchError', code: 'VERSION_MISMATCH' });
  expect(out.message).toMatch(/^shoal version mismatch: this process runs 9\.9\.9-other \(protocol \d+\), the head runs \d+\.\d+\.\d+ \(protocol \d+\)/);
  // The head refused it and lists no node for it.
  const { clusterStatus, init, shutdown } = await import('shoal');
  await init({ address: tc.address, token: tc.token });
  try {
    expect((await clusterStatus()).nodes).toHaveLength(1);
  } finally {
    await shutdown();
  }
});
