/**
 * The head SIGKILLed mid-job and started again on the same port with the same store (a SQLite file,
 * then PostgreSQL): the workers and this driver reconnect and re-report, and the cluster carries on.
 * Results equal a run without the failure, a named detached actor keeps its state, a task that may
 * not be retried runs exactly once (counted through a file it appends to), and a get() waiting
 * across the restart gets its value.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, get, getActor, HeadUnavailableError, WorkerDiedError } from 'shoal';
// Not on the package's public surface: the compiled layers the harness starts clusters with.
// eslint-disable-next-line no-restricted-imports -- a head process is started, killed and restarted by hand here
import { HeadClient, spawnEntry } from '../../../dist/src/core/index.js';
// eslint-disable-next-line no-restricted-imports -- the CLI's main(), run in this process
import { main as shoalCli } from '../../../dist/src/cli/index.js';
import { connectTestPostgres, uniqueTable } from '../../harness/postgres.js';
import { NO_POSTGRES, skipBecause } from '../../harness/skip.js';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { appendOnce, slowSquare, sumAll, Tally } from '../../fixtures/core/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'shoal-head-restart-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** SIGKILLs the head and starts it again on the same port and folder, with `store`. */
async function restartHead(tc: TestCluster, store: string | undefined, options: { recoveryGraceMs?: number; whileDown?: () => Promise<void> } = {}): Promise<void> {
  const old = tc.headProcess.child;
  const exited = new Promise<void>((resolve) => old.once('exit', () => resolve()));
  old.kill('SIGKILL');
  await exited;
  await options.whileDown?.();
  const info = tc.headInfo;
  const head = await spawnEntry('head-main.js', {
    dir: info.dir, host: '127.0.0.1', port: info.port, watchParent: true, ...(store ? { store } : {}),
    ...(options.recoveryGraceMs ? { recoveryGraceMs: options.recoveryGraceMs } : {}),
  }, { attached: true, logFile: join(info.dir, 'logs', 'head-restarted.log') });
  // The harness stops (and on exit kills) processes[0] as the head.
  tc.cluster.processes[0] = head;
}

/** Runs the same job with and without a head restart in the middle. */
async function headRestartScenario(tc: TestCluster, label: string, store: string | undefined): Promise<void> {
  const runs = join(scratch, `${label}-runs.txt`);
  // A named detached actor with state.
  const tally = Tally.options({ name: `tally-${label}`, lifetime: 'detached' }).remote();
  expect(await get(tally.add.remote(5), { timeoutMs: 20_000 })).toBe(5);

  // The job: squares summed by a task that depends on all of them, and tasks that must not run twice.
  const xs = Array.from({ length: 16 }, (_, i) => i);
  const expectedSum = xs.reduce((a, x) => a + x * x, 0);
  const once = appendOnce.options({ maxRetries: 0 });
  const onceRefs = [0, 1, 2, 3, 4, 5].map((i) => once.remote(runs, i, 1_500));
  const squares = xs.map((x) => slowSquare.remote(x, 300));
  const sum = sumAll.remote(...squares);
  // A driver waiting in get() across the restart.
  const waiting = get(onceRefs, { timeoutMs: 60_000 });
  await waitFor('tasks running on the workers', async () => (await tc.status()).nodes.some((n) => n.inflightTasks > 0), 20_000, 50);

  await restartHead(tc, store);

  expect(await waiting).toEqual([0, 1, 2, 3, 4, 5]);
  expect(await get(sum, { timeoutMs: 60_000 })).toBe(expectedSum);
  // Every non-retryable task ran exactly once.
  const lines = readFileSync(runs, 'utf8').trim().split('\n').map(Number).sort((a, b) => a - b);
  expect(lines).toEqual([0, 1, 2, 3, 4, 5]);
  // The named actor is found again by name, with its state.
  const again = await getActor<{ add(n: number): number }>(`tally-${label}`);
  expect(again.actorId).toBe(tally.actorId);
  expect(await get(again.add.remote(1), { timeoutMs: 20_000 })).toBe(6);
  // Both workers are back and new work runs.
  const status = await tc.waitForNodes(2, 20_000);
  expect(status.nodes.every((n) => n.alive)).toBe(true);
  expect(await get(sumAll.remote(1, 2, 3), { timeoutMs: 20_000 })).toBe(6);
}

interface JobView { id: string; status: string; logFile: string; exitCode?: number }

/** A job's record, through a fresh client (the head may have restarted since the last call). */
async function jobGet(tc: TestCluster, id: string): Promise<JobView> {
  const head = new HeadClient({ address: tc.address, token: tc.token });
  try {
    return await head.control('job-get', { id });
  } finally {
    head.close();
  }
}

/** A submitted job keeps running across a head restart and ends SUCCEEDED with the right output. */
async function jobScenario(tc: TestCluster, store: string | undefined): Promise<void> {
  const n = 12;
  let out = '';
  const io = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (out += t) };
  const script = fileURLToPath(new URL('../../fixtures/core/head-restart-job.ts', import.meta.url));
  const code = await shoalCli([process.execPath, 'shoal', 'submit', '--no-wait', '--address', tc.address, '--token-file', tc.headInfo.tokenFile, '--', 'node', script, String(n)], io);
  expect(code, out).toBe(0);
  const job = { id: /Submitted job (\S+):/.exec(out)![1]! };
  await waitFor('the job\'s tasks to run', async () => (await tc.status()).nodes.some((x) => x.inflightTasks > 0), 30_000, 50);

  await restartHead(tc, store);

  const done = await waitFor('the job to end', async () => {
    const j = await jobGet(tc, job.id);
    return j.status === 'RUNNING' || j.status === 'PENDING' ? undefined : j;
  }, 90_000, 250);
  const output = readFileSync(done.logFile, 'utf8');
  expect(done, output).toMatchObject({ status: 'SUCCEEDED', exitCode: 0 });
  const expected = Array.from({ length: n }, (_, i) => i * i).reduce((a, b) => a + b, 0);
  expect(output).toContain(`sum: ${expected}`);
}

describe('head killed and restarted with its SQLite store', () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await TestCluster.start({ numWorkers: 2, numCpus: 2 });
  }, 60_000);
  afterAll(async () => {
    await tc?.stop();
  });

  it('the cluster carries on: same results, actor state kept, non-retryable tasks ran once', async () => {
    await headRestartScenario(tc, 'sqlite', undefined);
  }, 120_000);

  it('a submitted job carries on through another restart and its status is right', async () => {
    await jobScenario(tc, undefined);
  }, 150_000);
});

describe('head killed and restarted with --store postgres://', () => {
  let tc: TestCluster | undefined;
  let store = '';
  let schema = '';
  beforeAll(async () => {
    const pg = await connectTestPostgres();
    if (!pg) return;
    await pg.end();
    schema = uniqueTable('shoal_head');
    store = `postgres://postgres@127.0.0.1:5432/test?schema=${schema}`;
    tc = await TestCluster.start({ numWorkers: 2, numCpus: 2, headOptions: { store } });
  }, 60_000);
  afterAll(async () => {
    await tc?.stop();
    const pg = await connectTestPostgres();
    if (pg && schema) await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg?.end();
  });

  it('the cluster carries on: same results, actor state kept, non-retryable tasks ran once', async (ctx) => {
    if (!tc) return skipBecause(ctx, NO_POSTGRES);
    await headRestartScenario(tc, 'postgres', store);
    // The state is in PostgreSQL: the cluster, its sessions and nodes, the named actor.
    const pg = (await connectTestPostgres())!;
    try {
      const rows = await pg.query<{ kind: string; n: string }>(`SELECT kind, count(*) AS n FROM "${schema}".head_records GROUP BY kind`);
      const counts = Object.fromEntries(rows.rows.map((r) => [r.kind, Number(r.n)]));
      expect(counts).toMatchObject({ meta: 1, node: 2, actor: 1 });
      expect(counts.session).toBeGreaterThanOrEqual(3);
    } finally {
      await pg.end();
    }
  }, 120_000);
});

describe('a worker lost while the head is down', () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await TestCluster.start({ numWorkers: 2, numCpus: 2 });
  }, 60_000);
  afterAll(async () => {
    await tc?.stop();
  });

  it('a non-retryable task that ran there fails with WorkerDiedError instead of running again; a named actor restarts', async () => {
    const runs = join(scratch, 'lost-node-runs.txt');
    const victim = tc.nodeId(1);
    const onVictim = { schedulingStrategy: { nodeId: victim, soft: true } };
    const once = appendOnce.options({ maxRetries: 0, ...onVictim });
    const retried = slowSquare.options({ maxRetries: 2, ...onVictim });
    const tally = Tally.options({ name: 'tally-lost', lifetime: 'detached', maxRestarts: 1, ...onVictim }).remote();
    expect(await get(tally.add.remote(3), { timeoutMs: 20_000 })).toBe(3);
    const onceRef = once.remote(runs, 1, 8_000);
    const retriedRef = retried.remote(7, 8_000);
    await waitFor('both tasks running on the victim (the side effect done)', async () => {
      const node = (await tc.status()).nodes.find((n) => n.id === victim);
      return (node?.inflightTasks ?? 0) >= 2 && existsSync(runs);
    }, 30_000, 50);

    await restartHead(tc, undefined, { recoveryGraceMs: 3_000, whileDown: () => tc.killWorker(1) });

    const err = await get(onceRef, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerDiedError);
    expect((err as Error).message).toMatch(/head restarted/);
    expect(readFileSync(runs, 'utf8').trim().split('\n')).toEqual(['1']);
    // A retryable task runs again on the surviving worker.
    expect(await get(retriedRef, { timeoutMs: 60_000 })).toBe(49);
    // The detached actor restarted on the survivor (a fresh instance: its state was on the lost node).
    const again = await getActor<{ add(n: number): number }>('tally-lost');
    expect(await get(again.add.remote(1), { timeoutMs: 30_000 })).toBe(1);
    const status = await tc.waitForNodes(1, 20_000);
    expect(status.nodes.map((n) => n.id)).toEqual([tc.nodeId(0)]);
  }, 150_000);
});

describe('a head that does not come back', () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await TestCluster.start({ numWorkers: 1, numCpus: 1 });
  }, 60_000);
  afterAll(async () => {
    delete process.env.SHOAL_RECONNECT_TIMEOUT_MS;
    await tc?.stop();
  });

  it('a waiting get() fails with HeadUnavailableError (a ConnectionError) once the reconnect timeout has passed', async () => {
    process.env.SHOAL_RECONNECT_TIMEOUT_MS = '1500';
    const ref = slowSquare.remote(3, 20_000);
    await waitFor('the task to run', async () => (await tc.status()).nodes.some((n) => n.inflightTasks > 0), 20_000, 50);
    const old = tc.headProcess.child;
    const exited = new Promise<void>((resolve) => old.once('exit', () => resolve()));
    old.kill('SIGKILL');
    await exited;
    const err = await get(ref, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain(tc.address);
    expect(err).toBeInstanceOf(HeadUnavailableError);
    expect((err as Error).message).toMatch(/the head is unavailable: .*did not come back within 1500 ms/);
  }, 90_000);
});
