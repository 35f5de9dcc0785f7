/**
 * Quality suite (`npm run bench -- quality`): the rental-recs job (examples/rental-recs) on each
 * shipped city (data/airbnb-albany, detailed format; data/airbnb-beijing, summary format), as
 * `npm start -- --input DIR` runs it. Per city and candidate: test NDCG@10 and HR@10 (time split,
 * fitted before the test cut) with 95% bootstrap intervals, the ratio to the best simple baseline
 * (the one chosen on validation: the baseline of the selection rule) with its paired-bootstrap
 * interval, and the 25%-hidden cold-listing percentile. Target rows (issue 21): the served model's
 * test NDCG@10 ≥ 1.10× the best simple baseline with the interval's lower bound > 1.0; cold
 * listings at percentile ≤ 0.35 (the best learned model that the simulation fits: the hybrid).
 *
 * Baseline, in the same run: the best simple baseline (a candidate of the same job). The job is
 * seeded and deterministic, so one run per city (metrics are not timings: more runs repeat them).
 * `SHOAL_BENCH_QUALITY_NEURAL=0` leaves the neural two-tower model out (it is most of the time).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, shutdown } from 'shoal';
import { repoCityDir } from '../../examples/albany-data.js';
import { runJob, type JobResult } from '../../examples/rental-recs/job.js';
import type { BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';

const CITIES = ['airbnb-albany', 'airbnb-beijing'];
const f4 = (v: number): string => (Number.isFinite(v) ? v.toFixed(4) : '-');

function rows(city: string, r: JobResult, load: string): BenchResult[] {
  const out: BenchResult[] = [];
  const base = r.candidates.find((c) => c.id === r.served.bestSimple)!;
  const bestTest = [...r.candidates.filter((c) => c.kind === 'simple')].sort((a, b) => b.test!.ndcg.mean - a.test!.ndcg.mean)[0]!;
  const pair = (id: string) => r.comparisons.test.find((p) => p.a === id);
  for (const c of r.candidates) {
    const p = pair(c.id);
    const ci = `NDCG@10 ${f4(c.test!.ndcg.mean)} [${f4(c.test!.ndcg.lo)}, ${f4(c.test!.ndcg.hi)}], HR@10 ${f4(c.test!.hr.mean)} [${f4(c.test!.hr.lo)}, ${f4(c.test!.hr.hi)}]`;
    const ratioCi = p ? `ratio ${p.ratio.mean.toFixed(3)} [${p.ratio.lo.toFixed(3)}, ${p.ratio.hi.toFixed(3)}], p ${p.p.toFixed(3)}` : 'the baseline itself';
    const cold = r.coldStart?.models.find((m) => m.id === c.id);
    const notes = `${ci}; vs ${base.name}: ${ratioCi}; ${c.test!.users} test users${cold ? `; cold-start percentile ${f4(cold.percentile.mean)} [${f4(cold.percentile.lo)}, ${f4(cold.percentile.hi)}]` : ''}${c.id === r.served.id ? '; SERVED' : ''}; load ${load}`;
    out.push(makeResult({ metric: `${city} ${c.id} test NDCG@10`, unit: 'NDCG@10', better: 'higher', samples: [c.test!.ndcg.mean], baseline: `best simple baseline (${base.id})`, baselineSamples: [base.test!.ndcg.mean], notes }));
    out.push(makeResult({ metric: `${city} ${c.id} test HR@10`, unit: 'HR@10', better: 'higher', samples: [c.test!.hr.mean], baseline: `best simple baseline (${base.id})`, baselineSamples: [base.test!.hr.mean], notes: `[${f4(c.test!.hr.lo)}, ${f4(c.test!.hr.hi)}]` }));
  }
  const served = r.candidates.find((c) => c.id === r.served.id)!;
  const sp = pair(served.id);
  out.push(makeResult({
    metric: `${city} TARGET served (${served.id}) NDCG@10 / best simple baseline`, unit: 'ratio', better: 'higher', target: 1.1,
    samples: [sp ? sp.ratio.mean : 1], baseline: 'ratio 1 (the baseline)', baselineSamples: [1],
    notes: `${sp ? `95% CI [${sp.ratio.lo.toFixed(3)}, ${sp.ratio.hi.toFixed(3)}]` : 'the served model is the baseline'}; baseline = ${base.name} (chosen on validation); best simple on test: ${bestTest.name} ${f4(bestTest.test!.ndcg.mean)}; served: ${r.served.reason}`,
  }));
  out.push(makeResult({
    metric: `${city} TARGET served NDCG@10 ratio, 95% CI lower bound`, unit: 'ratio', better: 'higher', target: 1.0 + 1e-9,
    samples: [sp ? sp.ratio.lo : 1], baseline: 'ratio 1', baselineSamples: [1], notes: 'target: above 1.0',
  }));
  const hyb = r.coldStart?.models.find((m) => m.id === 'hybrid');
  const pop = r.coldStart?.models.find((m) => m.id === 'popular');
  if (hyb && pop) {
    out.push(makeResult({
      metric: `${city} TARGET cold-start percentile (hybrid, ${r.coldStart!.share * 100}% hidden)`, unit: 'percentile', better: 'lower', target: 0.35,
      samples: [hyb.percentile.mean], baseline: 'most popular (blind to cold listings)', baselineSamples: [pop.percentile.mean],
      notes: `95% CI [${f4(hyb.percentile.lo)}, ${f4(hyb.percentile.hi)}]; ${r.coldStart!.pairs} (user, hidden listing) pairs; 0.5 = blind`,
    }));
  }
  return out;
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const neural = process.env.SHOAL_BENCH_QUALITY_NEURAL !== '0';
  await init({ numCpus: 2 });
  try {
    for (const city of CITIES) {
      if (!ctx.enabled(city)) continue;
      const dir = mkdtempSync(join(tmpdir(), `bench-quality-${city}-`));
      try {
        const before = loadavg()[0]!;
        ctx.log(`[quality] ${city}${neural ? '' : ' (neural model off)'}`);
        const r = await runJob({ input: repoCityDir(city), dataDir: join(dir, 'tables'), ...(neural ? {} : { neural: false as const }), log: (l) => ctx.log(`    ${l}`) });
        const load = `${before.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`;
        results.push(...rows(city, r, load));
        ctx.log(`[quality] ${city}: served ${r.served.name} — ${r.served.reason}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await shutdown();
  }
  return results;
}
