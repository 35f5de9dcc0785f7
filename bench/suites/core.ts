/**
 * Core runtime suite: task throughput and latency, actor calls, small puts, zero-copy get of a
 * large array on one node, and object transfer between two worker processes.
 * What each metric measures is described in bench/README.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { pack } from 'msgpackr';
import { clusterStatus, free, get, init, put, shutdown, wait, type ObjectRef } from 'shoal';
import { byteLength, Echo, inspect, makeArray, noop, type Inspection } from '../fixtures/core-tasks.js';
import { EchoThread, GrpcEcho, freshCopyTimes, memcpyTimes } from '../lib/baselines.js';
import { repeat, type BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import { fixtureJs } from '../lib/paths.js';
import { excess, median, percentile } from '../lib/stats.js';
import { forceGc, latencies, now, perSecond, timeAsync, withTimeout } from '../lib/timing.js';

const ASYNC_TASKS = 20_000;
const LATENCY_ITERS = 2_000;
const LATENCY_WARMUP = 200;
const ACTOR_CALLS = 10_000;
const PUTS = 20_000;
const PUT_VALUE_BYTES = 1024;
const BIG_BYTES = 100 * 1024 * 1024;
/** Round trips per run of the 100 MB get metric (each with the big and with the small argument). */
const GET_PAIRS = 15;
/** No-op B round trips per run of the transfer metric. */
const TRANSFER_NOOPS = 5;
const GET_TIMEOUT_MS = 120_000;

type Group = (results: BenchResult[]) => Promise<void>;

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const failed: string[] = [];
  const group = async (key: string, fn: Group): Promise<void> => {
    if (!ctx.enabled(key)) return;
    ctx.log(`[${key}]`);
    try {
      await fn(results);
    } catch (err) {
      failed.push(key);
      ctx.log(`  ${key} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      results.push(
        makeResult({
          metric: `${key} (failed)`,
          unit: '',
          better: 'higher',
          samples: [],
          baseline: '',
          baselineSamples: [],
          notes: `failed: ${err instanceof Error ? err.message : String(err)}`,
        }),
      );
    }
    forceGc();
  };

  // Buffers of the memcpy baseline, shared by the get and transfer metrics (allocated and touched once).
  let memcpy: { src: Float64Array; dst: Float64Array } | undefined;
  const memcpyBuffers = (): { src: Float64Array; dst: Float64Array } =>
    (memcpy ??= { src: new Float64Array(BIG_BYTES / 8).fill(1), dst: new Float64Array(BIG_BYTES / 8).fill(0) });

  const phase1 = ['tasks-async', 'task-latency', 'actor-async', 'actor-latency', 'put', 'get-100mb'].some((k) => ctx.enabled(k));
  if (phase1) {
    ctx.log('starting a local cluster: init({ numCpus: 2 })');
    await init({ numCpus: 2 });
    try {
      // Ships the bundle and loads it on the task threads before anything is timed.
      await get(
        Array.from({ length: 200 }, () => noop.remote()),
        { timeoutMs: GET_TIMEOUT_MS },
      );

      await group('tasks-async', (r) => tasksAsync(ctx, r));
      await group('task-latency', (r) => taskLatency(ctx, r));
      await group('actor-async', (r) => actorAsync(ctx, r));
      await group('actor-latency', (r) => actorLatency(ctx, r));
      await group('put', (r) => smallPuts(ctx, r));
      await group('get-100mb', (r) => getLocal(ctx, r, memcpyBuffers()));
    } finally {
      await shutdown();
    }
  }

  if (ctx.enabled('transfer')) {
    ctx.log('starting a local cluster: init({ numWorkers: 2, numCpus: 1 }), SHOAL_TRACE=objects on the workers');
    // The workers trace each fetch with the path it took; the transfer metric reads their logs.
    const savedTrace = process.env.SHOAL_TRACE;
    process.env.SHOAL_TRACE = [savedTrace, 'objects'].filter(Boolean).join(',');
    const cluster = await init({ numWorkers: 2, numCpus: 1 });
    if (savedTrace === undefined) delete process.env.SHOAL_TRACE;
    else process.env.SHOAL_TRACE = savedTrace;
    try {
      await group('transfer', (r) => transfer(ctx, r, memcpyBuffers(), cluster.dir));
    } finally {
      await shutdown();
    }
  }
  if (failed.length) ctx.log(`failed groups: ${failed.join(', ')}`);
  return results;
}

// ---------------------------------------------------------------------------------------------

async function tasksAsync(ctx: BenchContext, results: BenchResult[]): Promise<void> {
  const pool = new Piscina({ filename: fixtureJs('piscina-noop'), minThreads: 2, maxThreads: 2 });
  try {
    await get(
      Array.from({ length: 2000 }, () => noop.remote()),
      { timeoutMs: GET_TIMEOUT_MS },
    );
    await Promise.all(Array.from({ length: 2000 }, () => pool.run(null)));
    const r = await repeat(
      ctx,
      'tasks async',
      async () => {
        forceGc();
        const ms = await timeAsync(async () => {
          const refs = new Array<ObjectRef<null>>(ASYNC_TASKS);
          for (let i = 0; i < ASYNC_TASKS; i++) refs[i] = noop.remote();
          await get(refs, { timeoutMs: GET_TIMEOUT_MS });
        });
        forceGc();
        const baseMs = await timeAsync(async () => {
          const ps = new Array<Promise<unknown>>(ASYNC_TASKS);
          for (let i = 0; i < ASYNC_TASKS; i++) ps[i] = pool.run(null);
          await Promise.all(ps);
        });
        return { value: perSecond(ASYNC_TASKS, ms), baseline: perSecond(ASYNC_TASKS, baseMs) };
      },
      { warmup: 1 },
    );
    results.push(
      makeResult({
        metric: 'async no-op tasks (1 driver)',
        unit: 'tasks/s',
        better: 'higher',
        target: 20_000,
        samples: r.value,
        baseline: 'piscina 2 threads in-process',
        baselineSamples: r.baseline,
        notes: `submit ${ASYNC_TASKS} noop.remote() then get() all; time from first submit to get() resolving`,
      }),
    );
  } finally {
    await pool.destroy();
  }
}

async function taskLatency(ctx: BenchContext, results: BenchResult[]): Promise<void> {
  const echo = await GrpcEcho.start();
  try {
    const r = await repeat(ctx, 'task latency', async () => {
      forceGc();
      const s = await latencies(LATENCY_ITERS, () => get(noop.remote(), { timeoutMs: 10_000 }), LATENCY_WARMUP);
      const b = await latencies(LATENCY_ITERS, () => echo.call(), LATENCY_WARMUP);
      return { p50: percentile(s, 50), p99: percentile(s, 99), bp50: percentile(b, 50), bp99: percentile(b, 99) };
    });
    const notes = `await get(noop.remote()) one at a time, ${LATENCY_ITERS} timed after ${LATENCY_WARMUP} warm-up; percentile per run, median over runs`;
    results.push(
      makeResult({
        metric: 'sync task round trip p50',
        unit: 'ms',
        better: 'lower',
        target: 0.5,
        samples: r.p50,
        baseline: 'grpc-js unary echo p50',
        baselineSamples: r.bp50,
        notes,
      }),
    );
    results.push(
      makeResult({
        metric: 'sync task round trip p99',
        unit: 'ms',
        better: 'lower',
        target: null,
        samples: r.p99,
        baseline: 'grpc-js unary echo p99',
        baselineSamples: r.bp99,
        notes,
      }),
    );
  } finally {
    echo.close();
  }
}

async function actorAsync(ctx: BenchContext, results: BenchResult[]): Promise<void> {
  const a = Echo.remote();
  await withTimeout(a.ready(), 30_000, 'actor creation');
  const thread = new EchoThread();
  try {
    await get(
      Array.from({ length: 1000 }, () => a.ping.remote()),
      { timeoutMs: GET_TIMEOUT_MS },
    );
    await Promise.all(Array.from({ length: 1000 }, () => thread.call()));
    const r = await repeat(
      ctx,
      'actor async',
      async () => {
        forceGc();
        const ms = await timeAsync(async () => {
          const refs = new Array<ObjectRef<null>>(ACTOR_CALLS);
          for (let i = 0; i < ACTOR_CALLS; i++) refs[i] = a.ping.remote();
          await get(refs, { timeoutMs: GET_TIMEOUT_MS });
        });
        const baseMs = await timeAsync(async () => {
          const ps = new Array<Promise<void>>(ACTOR_CALLS);
          for (let i = 0; i < ACTOR_CALLS; i++) ps[i] = thread.call();
          await Promise.all(ps);
        });
        return { value: perSecond(ACTOR_CALLS, ms), baseline: perSecond(ACTOR_CALLS, baseMs) };
      },
      { warmup: 1 },
    );
    results.push(
      makeResult({
        metric: 'actor calls async (1 actor)',
        unit: 'calls/s',
        better: 'higher',
        target: 20_000,
        samples: r.value,
        baseline: 'worker_threads postMessage echo',
        baselineSamples: r.baseline,
        notes: `${ACTOR_CALLS} a.ping.remote() in flight on one actor, then get() all`,
      }),
    );
  } finally {
    await thread.close();
  }
}

async function actorLatency(ctx: BenchContext, results: BenchResult[]): Promise<void> {
  const a = Echo.remote();
  await withTimeout(a.ready(), 30_000, 'actor creation');
  const thread = new EchoThread();
  try {
    const r = await repeat(ctx, 'actor latency', async () => {
      forceGc();
      const s = await latencies(LATENCY_ITERS, () => get(a.ping.remote(), { timeoutMs: 10_000 }), LATENCY_WARMUP);
      const b = await latencies(LATENCY_ITERS, () => thread.call(), LATENCY_WARMUP);
      return { p50: percentile(s, 50), p99: percentile(s, 99), bp50: percentile(b, 50), bp99: percentile(b, 99) };
    });
    const notes = `await get(a.ping.remote()) one at a time, ${LATENCY_ITERS} timed after ${LATENCY_WARMUP} warm-up`;
    results.push(
      makeResult({
        metric: 'actor sync call p50',
        unit: 'ms',
        better: 'lower',
        target: 0.4,
        samples: r.p50,
        baseline: 'worker_threads postMessage RTT p50',
        baselineSamples: r.bp50,
        notes,
      }),
    );
    results.push(
      makeResult({
        metric: 'actor sync call p99',
        unit: 'ms',
        better: 'lower',
        target: null,
        samples: r.p99,
        baseline: 'worker_threads postMessage RTT p99',
        baselineSamples: r.bp99,
        notes,
      }),
    );
  } finally {
    await thread.close();
  }
}

async function smallPuts(ctx: BenchContext, results: BenchResult[]): Promise<void> {
  const value = new Uint8Array(PUT_VALUE_BYTES);
  for (let i = 0; i < value.length; i++) value[i] = (i * 31) & 0xff;
  let sink = 0;
  const r = await repeat(
    ctx,
    'put',
    async () => {
      forceGc();
      const ms = await timeAsync(async () => {
        const refs = new Array<ObjectRef<Uint8Array>>(PUTS);
        for (let i = 0; i < PUTS; i++) refs[i] = put(value);
        // "Then get one" through the cluster: a task taking the last ref as its argument runs only
        // after the head has registered it, and the session stream is FIFO — so every put reached the
        // head. (A plain get() of an inline put is answered locally and would not show that.)
        const n = await get(byteLength.remote(refs[PUTS - 1]!), { timeoutMs: GET_TIMEOUT_MS });
        if (n !== PUT_VALUE_BYTES) throw new Error(`put value came back with ${n} bytes`);
      });
      const baseMs = await timeAsync(() => {
        for (let i = 0; i < PUTS; i++) sink += pack(value).byteLength;
      });
      return { value: perSecond(PUTS, ms), baseline: perSecond(PUTS, baseMs) };
    },
    { warmup: 1 },
  );
  if (sink === 0) throw new Error('unreachable');
  results.push(
    makeResult({
      metric: 'small put (1 KB)',
      unit: 'puts/s',
      better: 'higher',
      target: 20_000,
      samples: r.value,
      baseline: 'msgpackr pack of the value',
      baselineSamples: r.baseline,
      notes: `${PUTS} put(Uint8Array(${PUT_VALUE_BYTES})) then get(byteLength.remote(lastRef)); baseline packs the same value ${PUTS} times`,
    }),
  );
}

async function getLocal(ctx: BenchContext, results: BenchResult[], mem: { src: Float64Array; dst: Float64Array }): Promise<void> {
  // The 100 MB array is made by a task, so it lives in the worker's object store (same node as the
  // consuming task); the tiny array is inline. Both are consumed by the same task.
  const big = makeArray.remote(BIG_BYTES);
  const small = makeArray.remote(64);
  await wait([big, small], { numReturns: 2, timeoutMs: GET_TIMEOUT_MS });
  const check = (i: Inspection, bytes: number): void => {
    if (i.length !== bytes / 8 || i.last !== 42) throw new Error(`inspect() saw length ${i.length}, last ${i.last}`);
  };
  check(await get(inspect.remote(small), { timeoutMs: 10_000 }), 64);
  const first = await get(inspect.remote(big), { timeoutMs: GET_TIMEOUT_MS });
  check(first, BIG_BYTES);
  let allShared = true;
  const access: number[] = [];
  const r = await repeat(ctx, 'get 100 MB', async () => {
    forceGc();
    const tb: number[] = [];
    const ts: number[] = [];
    for (let k = 0; k < GET_PAIRS; k++) {
      let t0 = now();
      const ib = await get(inspect.remote(big), { timeoutMs: GET_TIMEOUT_MS });
      tb.push(now() - t0);
      t0 = now();
      await get(inspect.remote(small), { timeoutMs: 10_000 });
      ts.push(now() - t0);
      check(ib, BIG_BYTES);
      allShared &&= ib.shared;
      access.push(ib.accessMs);
    }
    const copies = memcpyTimes(mem.src, mem.dst, 5);
    return { value: excess(median(tb), median(ts)), big: median(tb), small: median(ts), baseline: median(copies) };
  });
  results.push(
    makeResult({
      metric: 'get 100 MB Float64Array in task (same node)',
      unit: 'ms',
      better: 'lower',
      target: 1,
      samples: r.value,
      baseline: 'memcpy 100 MB (TypedArray.set)',
      baselineSamples: r.baseline,
      notes:
        `extra round-trip time of inspect.remote(ref to 100 MB array in the node's store) over inspect.remote(ref to a 64 B array), ` +
        `median of ${GET_PAIRS} each per run (median round trips: big ${median(r.big).toFixed(3)} ms, small ${median(r.small).toFixed(3)} ms; ` +
        `a run whose big round trip is within noise of the small one counts 0, never a negative time); ` +
        `it covers resolving the dependency, handing it to the task thread and deserializing. ` +
        `The array the task saw was ${allShared ? 'always' : 'NOT always'} a view onto shared memory (zero-copy); ` +
        `reading its last element inside the task took p50 ${percentile(access, 50).toFixed(4)} ms`,
    }),
  );
  free([big, small]);
}

/** How the workers fetched objects of at least `bytes` bytes (values carry a small header), from their `fetched ... via PATH` trace lines. */
function fetchPaths(clusterDir: string | undefined, bytes: number): { paths: Map<string, number>; fetchMs: number[] } {
  const paths = new Map<string, number>();
  const fetchMs: number[] = [];
  if (!clusterDir) return { paths, fetchMs };
  const logs = join(clusterDir, 'logs');
  for (const name of readdirSync(logs).filter((n) => /^worker-\d+\.err$/.test(n))) {
    for (const m of readFileSync(join(logs, name), 'utf8').matchAll(/fetched \S+ \((\d+) B\) from \S+ via ([a-z ]+) in ([\d.]+) ms/g)) {
      if (Number(m[1]) < bytes) continue;
      paths.set(m[2]!, (paths.get(m[2]!) ?? 0) + 1);
      fetchMs.push(Number(m[3]));
    }
  }
  return { paths, fetchMs };
}

async function transfer(ctx: BenchContext, results: BenchResult[], mem: { src: Float64Array; dst: Float64Array }, clusterDir: string | undefined): Promise<void> {
  const status = await clusterStatus();
  const nodes = status.nodes.filter((n) => n.alive).map((n) => n.id);
  if (nodes.length < 2) throw new Error(`expected 2 worker nodes, the cluster has ${nodes.length}`);
  const [n1, n2] = nodes as [string, string];
  const onNode = (nodeId: string) => ({ schedulingStrategy: { nodeId, soft: false } });
  const makeOn1 = makeArray.options(onNode(n1));
  const inspectOn2 = inspect.options(onNode(n2));
  // Warm-up: loads the bundle on both nodes and opens the node 2 → node 1 object channel.
  const warm = makeOn1.remote(1024 * 1024);
  await get(inspectOn2.remote(warm), { timeoutMs: GET_TIMEOUT_MS });
  free([warm]);
  const r = await repeat(ctx, 'transfer', async () => {
    forceGc();
    const big = makeOn1.remote(BIG_BYTES);
    const small = makeOn1.remote(64);
    await wait([big, small], { numReturns: 2, timeoutMs: GET_TIMEOUT_MS });
    const noops: number[] = [];
    for (let k = 0; k < TRANSFER_NOOPS; k++) {
      const t0 = now();
      await get(inspectOn2.remote(small), { timeoutMs: 10_000 });
      noops.push(now() - t0);
    }
    const t0 = now();
    const i = await get(inspectOn2.remote(big), { timeoutMs: GET_TIMEOUT_MS });
    const bigMs = now() - t0;
    if (i.length !== BIG_BYTES / 8 || i.last !== 42) throw new Error(`B saw length ${i.length}, last ${i.last}`);
    free([big, small]);
    const copyMs = median(memcpyTimes(mem.src, mem.dst, 3));
    const freshMs = median(freshCopyTimes(mem.src, 1));
    // The no-op round trip is subtracted only when it leaves a positive time (never an infinite or negative rate).
    const extra = excess(bigMs, median(noops));
    const ms = extra > 0 ? extra : bigMs;
    return { value: BIG_BYTES / 1e9 / (ms / 1000), bigMs, noopMs: median(noops), freshMs, baseline: BIG_BYTES / 1e9 / (copyMs / 1000) };
  });
  const { paths, fetchMs } = fetchPaths(clusterDir, BIG_BYTES);
  const measured = paths.size ? [...paths].map(([path, n]) => `${path} ×${n}`).join(', ') : 'unknown (no fetch trace in the worker logs)';
  // The fetch alone (request to bytes in the reader's memory), as the reader's trace times it: the rest of B is scheduling and the task.
  const fetchPart = fetchMs.length ? `; the fetch itself ${median(fetchMs).toFixed(1)} ms (median of ${fetchMs.length}, from the reader's trace)` : '';
  ctx.log(`  transfer: path measured: ${measured}; copy into fresh memory ${median(r.freshMs).toFixed(1)} ms per 100 MB${fetchPart}`);
  results.push(
    makeResult({
      metric: 'transfer 100 MB between worker processes',
      unit: 'GB/s',
      better: 'higher',
      target: 1,
      samples: r.value,
      baseline: 'memcpy 100 MB (TypedArray.set)',
      baselineSamples: r.baseline,
      notes:
        `${BIG_BYTES} B / (round trip of task B on node 2 taking the array made on node 1 − round trip of the same B with a 64 B array), ` +
        `GB = 1e9 B; median B ${median(r.bigMs).toFixed(1)} ms, no-op B ${median(r.noopMs).toFixed(3)} ms. ` +
        `Path measured (100 MB fetches, incl. warm-up): ${measured}${fetchPart}. ` +
        `Copying 100 MB into freshly allocated memory (first touch of each page) took ${median(r.freshMs).toFixed(1)} ms here, ` +
        `against memcpy into touched memory ${((BIG_BYTES / 1e9 / median(r.baseline)) * 1000).toFixed(1)} ms: a receiver fills new memory, so this bounds the transfer`,
    }),
  );
}
