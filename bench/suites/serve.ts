/**
 * Serve suite: the no-op deployment behind the ingress against a plain node:http server answering
 * the same JSON in one process (baseline, same run): max rps (closed loop) and p50/p99 at half that
 * rate (open loop); the rental model (the job's ALS on Albany, as live.ts serves it) at 500, 1,000
 * and 2,000 rps with and without batching (p50/p99, failed requests); and a hot swap under steady
 * load (failed requests, p99 during the swap); where one request's time goes (hops: the ingress, a replica call over the direct channel,
 * an actor call, the head's share of it); the ingress server candidates (server: node:http against
 * fastify); autoscaling over 100 → 2,000 → 100 rps (autoscale); a canary shift 5% → 50% → 100%
 * under load (canary); where the no-op's p99 at half load comes from (tail: the ingress's own
 * time, its event-loop delay and GC pauses, the replica thread's, against the baseline server's).
 * Groups: noop, tail, hops, server, rental, hotswap, autoscale, canary (`--only`).
 * The load generator runs in its own process (bench/fixtures/serve-load.ts); server, replicas and
 * load generator share this machine's cores — the table's notes give the load average.
 */
import { execFile } from 'node:child_process';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { ActorDiedError, get, init, kill, shutdown } from 'shoal';
import { createServeKey, startServe } from 'shoal/serve';
import { albanyDataDir } from '../../examples/albany-data.js';
import { runJob } from '../../examples/rental-recs/job.js';
import { Recommendations } from '../../examples/rental-recs/live.js';
import { Autoscaled, HopProbe, NoOp, Versioned } from '../fixtures/serve-apps.js';
import type { BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import { fixtureJs } from '../lib/paths.js';

interface Load {
  sent: number; ok: number; failed: number; rps: number; p50Ms: number; p99Ms: number; statuses: Record<string, number>;
  perStep?: Array<{ rate: number; ok: number; failed: number; p99Ms: number }>;
  /** The load generator's own event-loop delay. */
  loopP99Ms: number; loopMaxMs: number;
}

function load(args: { url: string; key?: string; mode: 'closed' | 'open'; concurrency?: number; rate?: number; durationMs: number; users?: string[]; steps?: Array<{ rate: number; durationMs: number }> }): Promise<Load> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [fixtureJs('serve-load'), JSON.stringify({ concurrency: 32, rate: 0, ...args })], { maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(JSON.parse(stdout.trim()) as Load);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const p50Of = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1] ?? NaN;

/** One GET on a keep-alive agent, resolved when the body ended. */
function httpGet(agent: Agent, url: string, key?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const r = request(url, { agent, headers: key ? { authorization: `Bearer ${key}` } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    r.on('error', reject);
    r.end();
  });
}

const la = (): string => `load avg ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const baseline = createServer({ keepAlive: true }, (_req, res) => {
    const text = JSON.stringify({ ok: true });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  await new Promise<void>((r) => baseline.listen(0, '127.0.0.1', () => r()));
  const baseUrl = `http://127.0.0.1:${(baseline.address() as AddressInfo).port}/noop`;

  const info = await init({ numWorkers: 1 });
  const keysFile = join(mkdtempSync(join(tmpdir(), 'shoal-serve-bench-')), 'keys.json');
  const key = createServeKey({ file: keysFile });
  const serve = await startServe({ port: 0, clusterTokenFile: info.tokenFile, serveKeysFile: keysFile });
  try {
    await serve.run(NoOp.bind());
    const url = `${serve.url}/noop`;
    const durationMs = 4000;
    if (ctx.enabled('noop')) {
      ctx.log('[noop] warm-up');
      await load({ url, key, mode: 'closed', durationMs: 1500 });
      const rps: number[] = [], baseRps: number[] = [], p50: number[] = [], p99: number[] = [], bp50: number[] = [], bp99: number[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        const s = await load({ url, key, mode: 'closed', durationMs });
        const b = await load({ url: baseUrl, mode: 'closed', durationMs });
        rps.push(s.rps);
        baseRps.push(b.rps);
        const half = Math.max(50, Math.round(s.rps / 2));
        const sh = await load({ url, key, mode: 'open', rate: half, durationMs });
        const bh = await load({ url: baseUrl, mode: 'open', rate: half, durationMs });
        p50.push(sh.p50Ms); p99.push(sh.p99Ms); bp50.push(bh.p50Ms); bp99.push(bh.p99Ms);
        ctx.log(`  run ${i + 1}: serve ${s.rps.toFixed(0)} rps (failed ${s.failed}), node:http ${b.rps.toFixed(0)} rps; at ${half} rps serve p50 ${sh.p50Ms.toFixed(2)} p99 ${sh.p99Ms.toFixed(2)} ms, node:http p50 ${bh.p50Ms.toFixed(2)} p99 ${bh.p99Ms.toFixed(2)} ms; ${la()}`);
      }
      results.push(makeResult({ metric: 'no-op deployment, max rps (32 in flight)', unit: 'req/s', better: 'higher', samples: rps, baseline: 'plain node:http, one process', baselineSamples: baseRps, notes: `target ≥ 0.4× baseline; 1 worker, 2 replicas; ${la()}` }));
      results.push(makeResult({ metric: 'no-op p50 at half max rps', unit: 'ms', better: 'lower', samples: p50, baseline: 'plain node:http at the same rate', baselineSamples: bp50, notes: `target: added ≤ 1 ms; ${la()}` }));
      results.push(makeResult({ metric: 'no-op p99 at half max rps', unit: 'ms', better: 'lower', samples: p99, baseline: 'plain node:http at the same rate', baselineSamples: bp99, notes: `target: added ≤ 5 ms; ${la()}` }));
    }
    if (ctx.enabled('tail')) {
      // The no-op at half its max rps, decomposed: the load generator's p99 (end to end), the time
      // the request spent in the deployment (DeploymentState: routing + the replica call over the
      // direct channel), the ingress process's event-loop delay and GC pauses, and each replica
      // thread's (NoOp.loopDelay). The baseline server's the same way at the same rate.
      ctx.log('[tail] no-op at half max rps, decomposed');
      const d = serve.controller.get('noop');
      const replicas = d.stable.group.replicas;
      const replicaLoops = (): Promise<Array<{ p99Ms: number; maxMs: number; gcs: number; gcMaxMs: number } | undefined>> =>
        Promise.all(replicas.map((r) => get((r.handle as any).loopDelay.remote()) as unknown as Promise<{ p99Ms: number; maxMs: number; gcs: number; gcMaxMs: number } | undefined>));
      const gcs: number[] = [];
      const obs = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) gcs.push(e.duration);
      });
      obs.observe({ entryTypes: ['gc'] });
      const baseIn: number[] = [];
      const onBase = (_req: unknown, res: import('node:http').ServerResponse): void => {
        const t0 = performance.now();
        res.once('finish', () => baseIn.push(performance.now() - t0));
      };
      baseline.prependListener('request', onBase);
      const q = (a: number[], p: number): number => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))] ?? NaN;
      const e2e: number[] = [], be2e: number[] = [], inDep: number[] = [], bIn: number[] = [], notes: string[] = [];
      try {
        await load({ url, key, mode: 'closed', durationMs: 1000 });
        const max = await load({ url, key, mode: 'closed', durationMs: 2000 });
        const half = Math.max(50, Math.round(max.rps / 2));
        for (let i = 0; i < ctx.runs; i++) {
          const row: string[] = [];
          for (const which of ['serve', 'node:http'] as const) {
            const eld = monitorEventLoopDelay({ resolution: 1 });
            gcs.length = 0;
            d.latencies.clear();
            baseIn.length = 0;
            await replicaLoops();
            eld.enable();
            const r = await load(which === 'serve' ? { url, key, mode: 'open', rate: half, durationMs } : { url: baseUrl, mode: 'open', rate: half, durationMs });
            eld.disable();
            const gcNote = `GC ${gcs.length}× max ${Math.max(0, ...gcs).toFixed(1)} ms`;
            const genNote = `load generator's event-loop delay p99 ${r.loopP99Ms.toFixed(1)} max ${r.loopMaxMs.toFixed(0)} ms`;
            const loopNote = `event-loop delay p99 ${(eld.percentile(99) / 1e6).toFixed(1)} max ${(eld.max / 1e6).toFixed(0)} ms`;
            if (which === 'serve') {
              const rl = await replicaLoops();
              e2e.push(r.p99Ms);
              const [depP99] = d.latencies.percentiles(99) as [number];
              inDep.push(depP99);
              row.push(`serve p99 ${r.p99Ms.toFixed(1)} ms, in the deployment (route + replica call) p99 ${depP99.toFixed(1)} ms; ingress ${loopNote}, ${gcNote}; replica threads ${rl.map((x) => (x ? `loop delay p99 ${x.p99Ms.toFixed(1)} max ${x.maxMs.toFixed(0)} ms, GC ${x.gcs}× max ${x.gcMaxMs.toFixed(1)} ms` : '?')).join(' / ')}; ${genNote}`);
            } else {
              be2e.push(r.p99Ms);
              bIn.push(q(baseIn, 0.99));
              row.push(`node:http p99 ${r.p99Ms.toFixed(1)} ms, in the server p99 ${q(baseIn, 0.99).toFixed(2)} ms; its process ${loopNote}, ${gcNote}; ${genNote}`);
            }
          }
          notes.push(row.join('; '));
          ctx.log(`  run ${i + 1} at ${half} rps: ${row.join(' | ')}; ${la()}`);
        }
      } finally {
        obs.disconnect();
        baseline.removeListener('request', onBase);
      }
      results.push(makeResult({ metric: 'no-op p99 at half max rps (tail group)', unit: 'ms', better: 'lower', samples: e2e, baseline: 'plain node:http at the same rate', baselineSamples: be2e, notes: `target: added ≤ 5 ms; ${la()}` }));
      results.push(makeResult({ metric: 'no-op p99 of the time in the deployment (route + replica call), half max rps', unit: 'ms', better: 'lower', samples: inDep, baseline: 'node:http: request to response written, same rate', baselineSamples: bIn, notes: `${notes.join(' || ')}; ${la()}` }));
    }
    if (ctx.enabled('hops')) {
      // One request at a time (nothing else in flight), the four paths interleaved so they share the
      // machine's load: where one request's time goes.
      ctx.log('[hops] one request at a time');
      const replica = serve.controller.get('noop').stable.group.replicas[0]!;
      const req = { requestId: 'bench', method: 'GET', path: '/u', query: {}, key: 'u' };
      const probe = HopProbe.remote();
      await probe.ready();
      kill(probe);
      // Until the head knows it is dead; then a call on it is answered by the head alone.
      for (;;) {
        try {
          await get(probe.ping.remote());
          await sleep(20);
        } catch (err) {
          if (err instanceof ActorDiedError) break;
          throw err;
        }
      }
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const channel = replica.mux?.channel;
      if (!channel?.open) throw new Error('the no-op replica has no direct channel');
      const paths: Record<'ingress' | 'plain' | 'actor' | 'head' | 'direct', () => Promise<unknown>> = {
        ingress: () => httpGet(agent, `${url}/u1`, key),
        plain: () => httpGet(agent, `${baseUrl}/u1`),
        actor: () => get((replica.handle as any).call.remote(req)),
        head: () => get(probe.ping.remote()).catch(() => undefined),
        direct: () => channel.invoke('call', req),
      };
      const runs: Record<keyof typeof paths, number[]> = { ingress: [], plain: [], actor: [], head: [], direct: [] };
      for (let i = 0; i < ctx.runs; i++) {
        const lat: Record<keyof typeof paths, number[]> = { ingress: [], plain: [], actor: [], head: [], direct: [] };
        for (let j = 0; j < 450; j++) {
          for (const k of Object.keys(paths) as Array<keyof typeof paths>) {
            const t0 = performance.now();
            await paths[k]();
            if (j >= 50) lat[k].push(performance.now() - t0);
          }
        }
        for (const k of Object.keys(paths) as Array<keyof typeof paths>) runs[k].push(p50Of(lat[k]));
        ctx.log(`  run ${i + 1}: p50 ingress ${runs.ingress[i]!.toFixed(3)} ms, node:http ${runs.plain[i]!.toFixed(3)}, direct channel call ${runs.direct[i]!.toFixed(3)}, actor call ${runs.actor[i]!.toFixed(3)}, head round trip ${runs.head[i]!.toFixed(3)}; ${la()}`);
      }
      agent.destroy();
      results.push(makeResult({ metric: 'no-op via the ingress, one request at a time, p50', unit: 'ms', better: 'lower', samples: runs.ingress, baseline: 'plain node:http, one request at a time', baselineSamples: runs.plain, notes: `the replica call in it (direct channel: ingress → actor thread and back) p50 ${runs.direct.map((x) => x.toFixed(2)).join('/')} ms; ${la()}` }));
      results.push(makeResult({ metric: 'replica call over the direct channel, one at a time, p50', unit: 'ms', better: 'lower', samples: runs.direct, baseline: 'the same call as an actor call (ingress → head → worker → actor thread and back)', baselineSamples: runs.actor, notes: `head round trip (a call the head answers alone) p50 ${runs.head.map((x) => x.toFixed(2)).join('/')} ms; ${la()}` }));
    }
    if (ctx.enabled('server')) {
      // The ingress's server, chosen by measurement: node:http against fastify (pure JavaScript, no
      // native download), each answering the same JSON in this process, the same load generator.
      ctx.log('[server] node:http against fastify');
      const { default: Fastify } = await import('fastify');
      const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
      app.get('/noop/:user', () => ({ ok: true }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      const fastUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/noop`;
      const rps: number[] = [], baseRps: number[] = [], p50: number[] = [], bp50: number[] = [];
      try {
        for (let i = 0; i < ctx.runs; i++) {
          const f = await load({ url: fastUrl, mode: 'closed', durationMs });
          const b = await load({ url: baseUrl, mode: 'closed', durationMs });
          const half = Math.max(50, Math.round(b.rps / 2));
          const fh = await load({ url: fastUrl, mode: 'open', rate: half, durationMs });
          const bh = await load({ url: baseUrl, mode: 'open', rate: half, durationMs });
          rps.push(f.rps); baseRps.push(b.rps); p50.push(fh.p50Ms); bp50.push(bh.p50Ms);
          ctx.log(`  run ${i + 1}: fastify ${f.rps.toFixed(0)} rps, node:http ${b.rps.toFixed(0)} rps; at ${half} rps p50 fastify ${fh.p50Ms.toFixed(2)} ms, node:http ${bh.p50Ms.toFixed(2)} ms; ${la()}`);
        }
      } finally {
        await app.close();
      }
      results.push(makeResult({ metric: 'ingress server candidate fastify 5, max rps (32 in flight)', unit: 'req/s', better: 'higher', samples: rps, baseline: 'node:http (the ingress\'s server)', baselineSamples: baseRps, notes: la() }));
      results.push(makeResult({ metric: 'ingress server candidate fastify 5, p50 at half node:http\'s max rps', unit: 'ms', better: 'lower', samples: p50, baseline: 'node:http at the same rate', baselineSamples: bp50, notes: la() }));
    }
    if (ctx.enabled('rental')) {
      ctx.log('[rental] the job on Albany (ALS, one grid point), then its model as 2 replicas');
      const job = await runJob({ neural: false, serve: 'als', keepModel: true, grid: { rank: [16], regParam: [0.1], maxIter: [6] }, log: () => undefined, dataDir: join(mkdtempSync(join(tmpdir(), 'shoal-serve-bench-albany-')), 'tables'), input: albanyDataDir() });
      const model = job.model!;
      const users = model.userIds.slice(0, 500);
      await serve.run(Recommendations.options({ version: model.version }).bind(model), { routePrefix: '/recs' });
      await serve.run(Recommendations.options({ name: 'recs-batched', version: model.version, batching: { maxBatchSize: 16, batchWaitMs: 1 } }).bind(model), { routePrefix: '/recs-batched' });
      for (const [route, label] of [['/recs', 'no batching'], ['/recs-batched', 'batching 16 / 1 ms']] as const) {
        await load({ url: `${serve.url}${route}`, key, mode: 'closed', durationMs: 1000, users });
        for (const rate of [500, 1000, 2000]) {
          const p50: number[] = [], p99: number[] = [], errors: number[] = [], achieved: number[] = [], bp99: number[] = [];
          for (let i = 0; i < ctx.runs; i++) {
            const r = await load({ url: `${serve.url}${route}`, key, mode: 'open', rate, durationMs: 3000, users });
            const b = await load({ url: baseUrl, mode: 'open', rate, durationMs: 3000 });
            p50.push(r.p50Ms); p99.push(r.p99Ms); errors.push(r.failed); achieved.push(r.rps); bp99.push(b.p99Ms);
            ctx.log(`  ${label} at ${rate} rps: achieved ${r.rps.toFixed(0)} rps, p50 ${r.p50Ms.toFixed(2)} p99 ${r.p99Ms.toFixed(2)} ms, ${r.failed} failed ${JSON.stringify(r.statuses)}; ${la()}`);
          }
          results.push(makeResult({ metric: `rental model (Albany ALS), ${label}, p99 at ${rate} rps`, unit: 'ms', better: 'lower', samples: p99, baseline: 'plain node:http at the same rate', baselineSamples: bp99, notes: `p50 ${p50.map((x) => x.toFixed(1)).join('/')} ms; failed ${errors.join('/')}; achieved ${achieved.map((x) => x.toFixed(0)).join('/')} rps; target p99 ≤ 10 ms at 1,000 rps, 0 errors; ${la()}` }));
        }
      }
    }
    if (ctx.enabled('hotswap')) {
      ctx.log('[hotswap] at 1,000 rps');
      await serve.run(Versioned.bind('a'), { routePrefix: '/v' });
      const failed: number[] = [], p99: number[] = [], steadyP99: number[] = [], achieved: number[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        const steady = await load({ url: `${serve.url}/v`, key, mode: 'open', rate: 1000, durationMs: 2000 });
        const during = load({ url: `${serve.url}/v`, key, mode: 'open', rate: 1000, durationMs: 6000 });
        await sleep(1000);
        await serve.run(Versioned.options({ version: `swap${i}` }).bind(`swap${i}`));
        const d = await during;
        failed.push(d.failed); p99.push(d.p99Ms); steadyP99.push(steady.p99Ms); achieved.push(d.rps);
        ctx.log(`  run ${i + 1}: during swap ${d.ok} ok, ${d.failed} failed ${JSON.stringify(d.statuses)}, ${d.rps.toFixed(0)} rps achieved, p99 ${d.p99Ms.toFixed(2)} ms (steady p99 ${steady.p99Ms.toFixed(2)}); ${la()}`);
      }
      results.push(makeResult({ metric: 'hot swap at 1,000 rps offered: p99 during the swap', unit: 'ms', better: 'lower', samples: p99, baseline: 'same deployment, no swap', baselineSamples: steadyP99, notes: `failed requests per swap: ${failed.join(', ')} (target 0); achieved ${achieved.map((x) => x.toFixed(0)).join('/')} rps; ${la()}` }));
    }
    if (ctx.enabled('canary')) {
      ctx.log('[canary] 5% → 50% → 100% at 1,000 rps');
      const failed: number[] = [], p99: number[] = [], steadyP99: number[] = [], achieved: number[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        const name = `canaried${i}`;
        await serve.run(Versioned.options({ name, version: 'stable' }).bind('stable'), { routePrefix: `/c${i}` });
        const steady = await load({ url: `${serve.url}/c${i}`, key, mode: 'open', rate: 1000, durationMs: 2000 });
        const during = load({ url: `${serve.url}/c${i}`, key, mode: 'open', rate: 1000, durationMs: 8000 });
        await sleep(1000);
        await serve.controller.rollout(name, Versioned.options({ name, version: 'cand' }).bind('cand'), 5);
        await sleep(1500);
        await serve.controller.rollout(name, undefined, 50);
        await sleep(1500);
        await serve.controller.rollout(name, undefined, 100);
        const d = await during;
        failed.push(d.failed); p99.push(d.p99Ms); steadyP99.push(steady.p99Ms); achieved.push(d.rps);
        ctx.log(`  run ${i + 1}: during the shift ${d.ok} ok, ${d.failed} failed ${JSON.stringify(d.statuses)}, ${d.rps.toFixed(0)} rps achieved, p99 ${d.p99Ms.toFixed(2)} ms (steady p99 ${steady.p99Ms.toFixed(2)}); ${la()}`);
      }
      results.push(makeResult({ metric: 'canary 5% → 50% → 100% at 1,000 rps offered: p99 during the shift', unit: 'ms', better: 'lower', samples: p99, baseline: 'same deployment, no rollout', baselineSamples: steadyP99, notes: `failed requests per shift: ${failed.join(', ')} (target 0); achieved ${achieved.map((x) => x.toFixed(0)).join('/')} rps; ${la()}` }));
    }
    if (ctx.enabled('autoscale')) {
      // 100 → 2,000 → 100 rps; replicas hold each request ~5 ms (an await), target 2 ongoing per
      // replica, 1..4 replicas, upscale delay 1 s, downscale delay 3 s. Replica counts polled every 100 ms.
      ctx.log('[autoscale] 100 → 2,000 → 100 rps');
      await serve.run(Autoscaled.bind(), { routePrefix: '/auto' });
      const d = serve.controller.get('autoscaled');
      const up: number[] = [], down: number[] = [], failed: number[] = [], peak: number[] = [], p99High: number[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        while (d.stable.group.running.length > 1) await sleep(100);
        const steps = [{ rate: 100, durationMs: 4000 }, { rate: 2000, durationMs: 15_000 }, { rate: 100, durationMs: 20_000 }];
        const timeline: Array<{ t: number; n: number }> = [];
        const t0 = performance.now();
        const poll = setInterval(() => timeline.push({ t: performance.now() - t0, n: d.stable.group.running.length }), 100);
        const r = await load({ url: `${serve.url}/auto`, key, mode: 'open', durationMs: 0, steps });
        // Replicas may still be starting when the load ends: follow them back to 1.
        const deadline = performance.now() + 30_000;
        while (d.stable.group.running.length > 1 && performance.now() < deadline) await sleep(100);
        timeline.push({ t: performance.now() - t0, n: d.stable.group.running.length });
        clearInterval(poll);
        const highStart = steps[0]!.durationMs, lowStart = highStart + steps[1]!.durationMs;
        // Scale-up: from the step up to the first time the count reached its peak; scale-down: from
        // the step down (or the peak, when it came later) back to one replica.
        const max = Math.max(...timeline.map((p) => p.n));
        const peakAt = timeline.find((p) => p.n === max)!.t;
        const upAt = max > 1 ? peakAt : NaN;
        const downAt = timeline.find((p) => p.t >= Math.max(lowStart, peakAt) && p.n === 1)?.t ?? NaN;
        up.push((upAt - highStart) / 1000); down.push((downAt - Math.max(lowStart, peakAt)) / 1000); failed.push(r.failed); peak.push(max);
        p99High.push(r.perStep?.[1]?.p99Ms ?? NaN);
        ctx.log(`  run ${i + 1}: up to ${max} replicas in ${((upAt - highStart) / 1000).toFixed(1)} s, back to 1 in ${down[i]!.toFixed(1)} s after the step down (or the peak); ${r.failed} failed ${JSON.stringify(r.statuses)}; steps ${JSON.stringify(r.perStep)}; ${la()}`);
      }
      const decisions = serve.controller.decisions.filter((x) => x.deployment === 'autoscaled').length;
      results.push(makeResult({ metric: 'autoscaling 100 → 2,000 rps: seconds to scale up (upscale delay 1 s)', unit: 's', better: 'lower', samples: up, baseline: 'upscale delay', baselineSamples: up.map(() => 1), notes: `peak replicas ${peak.join('/')}; failed requests ${failed.join('/')} (target 0); p99 in the 2,000 rps step ${p99High.map((x) => x.toFixed(0)).join('/')} ms; ${decisions} decisions logged; ${la()}` }));
      results.push(makeResult({ metric: 'autoscaling 2,000 → 100 rps: seconds to scale down (downscale delay 3 s)', unit: 's', better: 'lower', samples: down, baseline: 'downscale delay', baselineSamples: down.map(() => 3), notes: `failed requests ${failed.join('/')} (target 0); ${la()}` }));
    }
  } finally {
    await serve.shutdown();
    await shutdown();
    baseline.close();
  }
  return results;
}
