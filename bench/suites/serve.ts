/**
 * Serve suite: the no-op deployment behind the ingress against a plain node:http server answering
 * the same JSON in one process (baseline, same run): max rps (closed loop) and p50/p99 at half that
 * rate (open loop); the rental model (the job's ALS on Albany, as live.ts serves it) at 500, 1,000
 * and 2,000 rps with and without batching (p50/p99, failed requests); and a hot swap under steady
 * load (failed requests, p99 during the swap). Groups: noop, rental, hotswap (`--only`).
 * The load generator runs in its own process (bench/fixtures/serve-load.ts); server, replicas and
 * load generator share this machine's cores — the table's notes give the load average.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { init, shutdown } from 'shoal';
import { createServeKey, startServe } from 'shoal/serve';
import { albanyDataDir } from '../../examples/albany-data.js';
import { runJob } from '../../examples/rental-recs/job.js';
import { Recommendations } from '../../examples/rental-recs/live.js';
import { NoOp, Versioned } from '../fixtures/serve-apps.js';
import type { BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import { fixtureJs } from '../lib/paths.js';

interface Load { sent: number; ok: number; failed: number; rps: number; p50Ms: number; p99Ms: number; statuses: Record<string, number> }

function load(args: { url: string; key?: string; mode: 'closed' | 'open'; concurrency?: number; rate?: number; durationMs: number; users?: string[] }): Promise<Load> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [fixtureJs('serve-load'), JSON.stringify({ concurrency: 32, rate: 0, ...args })], { maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(JSON.parse(stdout.trim()) as Load);
    });
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
      ctx.log('[hotswap]');
      await serve.run(Versioned.bind('a'), { routePrefix: '/v' });
      const failed: number[] = [], p99: number[] = [], steadyP99: number[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        const steady = await load({ url: `${serve.url}/v`, key, mode: 'open', rate: 300, durationMs: 2000 });
        const during = load({ url: `${serve.url}/v`, key, mode: 'open', rate: 300, durationMs: 6000 });
        await new Promise((r) => setTimeout(r, 1000));
        await serve.run(Versioned.options({ version: `swap${i}` }).bind(`swap${i}`));
        const d = await during;
        failed.push(d.failed); p99.push(d.p99Ms); steadyP99.push(steady.p99Ms);
        ctx.log(`  run ${i + 1}: during swap ${d.ok} ok, ${d.failed} failed, p99 ${d.p99Ms.toFixed(2)} ms (steady p99 ${steady.p99Ms.toFixed(2)}); ${la()}`);
      }
      results.push(makeResult({ metric: 'hot swap at 300 rps: p99 during the swap', unit: 'ms', better: 'lower', samples: p99, baseline: 'same deployment, no swap', baselineSamples: steadyP99, notes: `failed requests per swap: ${failed.join(', ')} (target 0); ${la()}` }));
    }
  } finally {
    await serve.shutdown();
    await shutdown();
    baseline.close();
  }
  return results;
}
