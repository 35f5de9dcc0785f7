/**
 * ALS quality on the real Albany Airbnb reviews (implicit feedback: a review is a stay), against the
 * most-popular baseline, with the protocol of test/integration/train/als.test.ts: leave-last-out
 * (per reviewer with ≥ 2 distinct listings, the listing of the latest review is held out, all its
 * reviews removed from training), every listing of the catalogue ranked, the reviewer's training
 * listings excluded from the ranking for both models, a held-out listing without training reviews
 * counted as a miss for both.
 *
 * The question (issue 6 §1): does ALS lose to most-popular because of the protocol or the settings?
 * A small grid over rank × regParam × alpha is scored on a validation split cut from the training
 * data the same way (each reviewer's latest remaining listing), never on the test split; the best
 * setting by validation NDCG@10 is then trained on the whole training split and evaluated once on
 * the test split, over several seeds. Values: HR@10 and NDCG@10 (Recall@10 equals HR@10 with one
 * held-out listing per reviewer). Baseline: most popular by training reviews, same split.
 *
 * The neural two-tower recommender (issue 6 §4) is scored on the same test split: negatives drawn
 * every epoch against once per fit, and 2 data-parallel workers against 1 (quality, wall time).
 *
 * Groups (`--only`): `als`, `neural`.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, type Table } from 'apache-arrow';
import { init, isMain, shutdown } from 'shoal';
import { ALS, NeuralRecommender, type EpochEvent, type NeuralRecommenderOptions } from 'shoal/train';
import type { BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import { median } from '../lib/stats.js';
import { albanyDataDir } from '../../examples/albany-data.js';

interface Review {
  user: number;
  item: number;
  date: string;
}

// A type alias, not an interface: ALS takes rows as Record<string, unknown>.
type Pair = {
  user: number;
  item: number;
  rating: number;
};

interface Split {
  train: Pair[];
  /** Held-out listing per reviewer. */
  heldOut: Map<number, number>;
}

const REVIEWS = join(albanyDataDir(), 'reviews.csv');
const LISTINGS = join(albanyDataDir(), 'listings.csv');

/** Reviews with listings indexed 0..n-1 (listing ids exceed 2^53, so they are indexed as strings); `listingIds[i]` is listing i's id. */
export function loadReviews(path: URL | string = REVIEWS): { reviews: Review[]; catalogue: number; listingIds: string[] } {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).slice(1).filter((l) => l.length > 0);
  const listingIndex = new Map<string, number>();
  const reviews = lines.map((l, i) => {
    const [reviewer, listing, date] = l.split(',');
    if (reviewer === undefined || listing === undefined || date === undefined) throw new Error(`reviews.csv line ${i + 2} has fewer than 3 fields`);
    if (!listingIndex.has(listing)) listingIndex.set(listing, listingIndex.size);
    return { user: Number(reviewer), item: listingIndex.get(listing)!, date };
  });
  return { reviews, catalogue: listingIndex.size, listingIds: [...listingIndex.keys()] };
}

/** Leave-last-out over reviews: the latest listing of each reviewer with ≥ 2 distinct listings; the rest as counts. */
export function leaveLastOut(reviews: readonly Review[]): Split {
  const byUser = new Map<number, Review[]>();
  for (const r of reviews) {
    let list = byUser.get(r.user);
    if (!list) byUser.set(r.user, (list = []));
    list.push(r);
  }
  const heldOut = new Map<number, number>();
  for (const [u, list] of byUser) {
    if (new Set(list.map((r) => r.item)).size < 2) continue;
    const last = list.reduce((a, b) => (b.date > a.date || (b.date === a.date && b.item > a.item) ? b : a));
    heldOut.set(u, last.item);
  }
  const counts = new Map<string, Pair>();
  for (const r of reviews) {
    if (heldOut.get(r.user) === r.item) continue;
    const key = `${r.user}:${r.item}`;
    const c = counts.get(key);
    if (c) c.rating++;
    else counts.set(key, { user: r.user, item: r.item, rating: 1 });
  }
  return { train: [...counts.values()], heldOut };
}

export interface RankingMetrics {
  hr: number;
  ndcg: number;
}

/**
 * HR@10 and NDCG@10 of `score` over the held-out listings, ranking every listing of the catalogue
 * except the reviewer's training listings; ties go against the held-out listing; a held-out listing
 * the model cannot score (NaN) is a miss.
 */
export function rankingMetrics(split: Split, catalogue: number, score: (user: number, item: number) => number, k = 10): RankingMetrics {
  const seen = new Map<number, Set<number>>();
  for (const r of split.train) {
    let s = seen.get(r.user);
    if (!s) seen.set(r.user, (s = new Set()));
    s.add(r.item);
  }
  let hits = 0;
  let ndcg = 0;
  for (const [u, target] of split.heldOut) {
    const exclude = seen.get(u);
    const t = score(u, target);
    if (Number.isNaN(t)) continue;
    let better = 0;
    for (let item = 0; item < catalogue && better < k; item++) {
      if (item === target || exclude?.has(item)) continue;
      const s = score(u, item);
      if (s > t || (s === t && item < target)) better++;
    }
    if (better < k) {
      hits++;
      ndcg += 1 / Math.log2(better + 2);
    }
  }
  return { hr: hits / split.heldOut.size, ndcg: ndcg / split.heldOut.size };
}

export function popularityScorer(train: readonly Pair[], catalogue: number): (user: number, item: number) => number {
  const popularity = new Float64Array(catalogue);
  for (const r of train) popularity[r.item]! += 1;
  return (_u, item) => (popularity[item]! > 0 ? popularity[item]! : NaN);
}

interface AlsSetting {
  rank: number;
  regParam: number;
  alpha: number;
}

async function alsScorer(train: Pair[], s: AlsSetting, seed: number): Promise<(user: number, item: number) => number> {
  const model = await new ALS({ ...s, maxIter: 10, implicitPrefs: true, seed, numUserBlocks: 4, numItemBlocks: 2 }).fit(train);
  return factorScorer(model);
}

interface FactorModel {
  readonly rank: number;
  readonly userFactorMatrix: { readonly ids: ArrayLike<number>; readonly factors: Float32Array | Float64Array };
  readonly itemFactorMatrix: { readonly ids: ArrayLike<number>; readonly factors: Float32Array | Float64Array };
}

/** Score = dot product of the user's and the item's factors; unknown item NaN, unknown user -Infinity. */
function factorScorer(model: FactorModel): (user: number, item: number) => number {
  const uIdx = new Map(Array.from(model.userFactorMatrix.ids, (id, k) => [id, k]));
  const iIdx = new Map(Array.from(model.itemFactorMatrix.ids, (id, k) => [id, k]));
  const U = model.userFactorMatrix.factors;
  const V = model.itemFactorMatrix.factors;
  const rank = model.rank;
  return (u, item) => {
    const a = uIdx.get(u);
    const b = iIdx.get(item);
    if (b === undefined) return NaN;
    if (a === undefined) return -Infinity;
    let dot = 0;
    for (let f = 0; f < rank; f++) dot += U[a * rank + f]! * V[b * rank + f]!;
    return dot;
  };
}

/** RFC 4180 rows (quoted fields may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += c;
  }
  if (field !== '' || row.length) rows.push([...row, field]);
  return rows;
}

/** Numeric listing columns used as item features (nothing derived from reviews: that would leak the held-out stays). */
const LISTING_NUMERIC = ['latitude', 'longitude', 'accommodates', 'bathrooms', 'bedrooms', 'beds', 'price', 'minimum_nights', 'availability_365'] as const;
const ROOM_TYPES = ['Entire home/apt', 'Private room', 'Shared room', 'Hotel room'] as const;

/**
 * One feature row per catalogue listing from listings.csv: the numeric columns, the room type
 * one-hot, instant_bookable and host_is_superhost. A missing value (or a reviewed listing absent
 * from listings.csv) takes the column's mean; the recommender standardizes the columns.
 */
export function listingFeatures(listingIds: readonly string[], path: URL | string = LISTINGS): Table {
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  const col = (name: string): number => {
    const i = header!.indexOf(name);
    if (i < 0) throw new Error(`listings.csv has no column '${name}'`);
    return i;
  };
  const byId = new Map(rows.map((r) => [r[col('id')]!, r]));
  const width = LISTING_NUMERIC.length + ROOM_TYPES.length + 2;
  const values = listingIds.map((id): (number | undefined)[] => {
    const r = byId.get(id);
    if (!r) return new Array<undefined>(width).fill(undefined);
    const num = LISTING_NUMERIC.map((c) => {
      const v = Number.parseFloat(r[col(c)]!.replace(/[$,]/g, ''));
      return Number.isFinite(v) ? v : undefined;
    });
    const room = ROOM_TYPES.map((t) => (r[col('room_type')] === t ? 1 : 0));
    const flag = (c: string): number => (r[col(c)] === 't' ? 1 : 0);
    return [...num, ...room, flag('instant_bookable'), flag('host_is_superhost')];
  });
  const cols: Record<string, Float32Array> = { item: Float32Array.from(listingIds, (_, i) => i) };
  for (let j = 0; j < width; j++) {
    const present = values.map((v) => v[j]).filter((v): v is number => v !== undefined);
    const mean = present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0;
    cols[`x${j}`] = Float32Array.from(values, (v) => v[j] ?? mean);
  }
  return tableFromArrays(cols);
}

/** The rental example's neural settings (examples/rental-recs/neural.ts, chosen on this validation split). */
const NEURAL: NeuralRecommenderOptions = { embeddingDim: 32, hiddenUnits: [64], epochs: 3, negatives: 4, batchSize: 4096, learningRate: 0.01, itemIdDropout: 0.25, syncEveryNSteps: 4 };

interface NeuralFit {
  score: (user: number, item: number) => number;
  trainMs: number;
  /** Per epoch after the first, mean over workers: ms of compute and of parameter averaging, per epoch. */
  computeMs: number;
  commMs: number;
  users: number;
}

async function neuralScorer(train: Pair[], features: Table, o: NeuralRecommenderOptions): Promise<NeuralFit> {
  const featureCols = features.schema.fields.map((f) => f.name).filter((n) => n !== 'item');
  const epochs: EpochEvent[] = [];
  const rec = new NeuralRecommender({ ...NEURAL, ...o, featureCols, onEpoch: (e) => epochs.push(e) });
  const model = await rec.fit(train, features);
  const later = epochs.slice(1);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    trainMs: rec.lastFitStats!.trainMs,
    computeMs: mean(later.map((e) => e.computeMs)),
    commMs: mean(later.map((e) => e.commMs)),
    users: rec.lastFitStats!.users,
    score: factorScorer(model),
  };
}

const GRID = { rank: [2, 4, 8, 16, 32, 64], regParam: [0.01, 1, 10], alpha: [0.25, 1, 20, 60] };
/** The setting of the integration test (and of the figures quoted before this suite). */
const FIXED: AlsSetting = { rank: 32, regParam: 0.1, alpha: 20 };

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const { reviews, catalogue, listingIds } = loadReviews();
  const test = leaveLastOut(reviews);
  // Validation: the same rule applied to the training split (expanded back to one row per review).
  const trainReviews: Review[] = [];
  const latestDate = new Map<string, string>();
  for (const r of reviews) {
    if (test.heldOut.get(r.user) === r.item) continue;
    const key = `${r.user}:${r.item}`;
    if ((latestDate.get(key) ?? '') < r.date) latestDate.set(key, r.date);
  }
  for (const p of test.train) for (let c = 0; c < p.rating; c++) trainReviews.push({ user: p.user, item: p.item, date: latestDate.get(`${p.user}:${p.item}`)! });
  const valid = leaveLastOut(trainReviews);
  ctx.log(`[als-albany] ${reviews.length} reviews, ${catalogue} listings; test: ${test.heldOut.size} reviewers, ${test.train.length} train pairs; ` +
    `validation: ${valid.heldOut.size} reviewers, ${valid.train.length} pairs`);
  const seeds = Array.from({ length: Math.max(1, Math.min(ctx.runs, 5)) }, (_, i) => i + 1);
  const results: BenchResult[] = [];
  await init({ numCpus: 2 });
  try {
    const pop = rankingMetrics(test, catalogue, popularityScorer(test.train, catalogue));
    if (ctx.enabled('als')) {
      const popValid = rankingMetrics(valid, catalogue, popularityScorer(valid.train, catalogue));
      ctx.log(`  validation, most popular: HR@10 ${popValid.hr.toFixed(4)} NDCG@10 ${popValid.ndcg.toFixed(4)}`);
      let best: { s: AlsSetting; m: RankingMetrics } | undefined;
      for (const rank of GRID.rank) for (const regParam of GRID.regParam) for (const alpha of GRID.alpha) {
        const s = { rank, regParam, alpha };
        const m = rankingMetrics(valid, catalogue, await alsScorer(valid.train, s, 1));
        ctx.log(`  validation, ALS rank ${rank} reg ${regParam} α ${alpha}: HR@10 ${m.hr.toFixed(4)} NDCG@10 ${m.ndcg.toFixed(4)}`);
        if (!best || m.ndcg > best.m.ndcg) best = { s, m };
      }
      const tuned = best!.s;
      ctx.log(`  best on validation: rank ${tuned.rank} reg ${tuned.regParam} α ${tuned.alpha} (NDCG@10 ${best!.m.ndcg.toFixed(4)}, HR@10 ${best!.m.hr.toFixed(4)})`);
      ctx.log(`  test, most popular: HR@10 ${pop.hr.toFixed(4)} NDCG@10 ${pop.ndcg.toFixed(4)}`);
      for (const [label, s] of [['tuned on validation', tuned], ['integration-test setting', FIXED]] as const) {
        const runs: RankingMetrics[] = [];
        for (const seed of seeds) {
          const m = rankingMetrics(test, catalogue, await alsScorer(test.train, s, seed));
          ctx.log(`  test, ALS ${label} (rank ${s.rank} reg ${s.regParam} α ${s.alpha}) seed ${seed}: HR@10 ${m.hr.toFixed(4)} NDCG@10 ${m.ndcg.toFixed(4)}`);
          runs.push(m);
        }
        const notes = `Albany reviews, leave-last-out, ${test.heldOut.size} test reviewers, all ${catalogue} reviewed listings ranked, training listings excluded for both; ` +
          `ALS implicit rank ${s.rank}, regParam ${s.regParam}, alpha ${s.alpha}, 10 iterations, one sample per seed; ` +
          (label === 'tuned on validation'
            ? `chosen by NDCG@10 on a validation split cut from the training data (grid rank ${GRID.rank.join('/')} × regParam ${GRID.regParam.join('/')} × alpha ${GRID.alpha.join('/')})`
            : 'the setting of test/integration/train/als.test.ts');
        for (const [key, name] of [['hr', 'HR@10'], ['ndcg', 'NDCG@10']] as const) {
          results.push(makeResult({
            metric: `Albany ${name}, ALS ${label}`, unit: name, better: 'higher',
            samples: runs.map((m) => m[key]), baseline: 'most popular by training reviews (same split, same exclusions)', baselineSamples: runs.map(() => pop[key]), notes,
          }));
        }
      }
    }
    if (ctx.enabled('neural')) results.push(...(await neuralResults(ctx, test, catalogue, listingFeatures(listingIds), seeds, pop)));
  } finally {
    await shutdown();
  }
  return results;
}

/**
 * The neural two-tower recommender on the same test split: negatives drawn afresh every epoch
 * against once per fit (1 worker), and 2 data-parallel workers (embeddings and all weights averaged
 * every `syncEveryNSteps` steps) against 1 — quality and training wall time, one fit per seed.
 */
async function neuralResults(ctx: BenchContext, test: Split, catalogue: number, features: Table, seeds: number[], pop: RankingMetrics): Promise<BenchResult[]> {
  const runs = {
    perEpoch: [] as RankingMetrics[], once: [] as RankingMetrics[], two: [] as RankingMetrics[], oneMs: [] as number[], twoMs: [] as number[],
    oneCompute: [] as number[], twoCompute: [] as number[], twoComm: [] as number[],
  };
  let users = 0;
  const load = [loadavg()[0]!];
  for (const seed of seeds) {
    const perEpoch = await neuralScorer(test.train, features, { seed, numWorkers: 1 });
    const once = await neuralScorer(test.train, features, { seed, numWorkers: 1, resampleNegatives: false });
    const two = await neuralScorer(test.train, features, { seed, numWorkers: 2 });
    const m = [perEpoch, once, two].map((r) => rankingMetrics(test, catalogue, r.score)) as [RankingMetrics, RankingMetrics, RankingMetrics];
    runs.perEpoch.push(m[0]);
    runs.once.push(m[1]);
    runs.two.push(m[2]);
    runs.oneMs.push(perEpoch.trainMs);
    runs.twoMs.push(two.trainMs);
    runs.oneCompute.push(perEpoch.computeMs);
    runs.twoCompute.push(two.computeMs);
    runs.twoComm.push(two.commMs);
    users = two.users;
    load.push(loadavg()[0]!);
    ctx.log(`  test, neural seed ${seed}: negatives per epoch HR@10 ${m[0].hr.toFixed(4)} NDCG@10 ${m[0].ndcg.toFixed(4)} (${perEpoch.trainMs.toFixed(0)} ms); ` +
      `once per fit HR@10 ${m[1].hr.toFixed(4)} NDCG@10 ${m[1].ndcg.toFixed(4)}; 2 workers HR@10 ${m[2].hr.toFixed(4)} NDCG@10 ${m[2].ndcg.toFixed(4)} (${two.trainMs.toFixed(0)} ms)`);
  }
  const setting = `two-tower dim ${NEURAL.embeddingDim}, hidden ${JSON.stringify(NEURAL.hiddenUnits)}, ${NEURAL.epochs} epochs, ${NEURAL.negatives} negatives per stay, global batch ${NEURAL.batchSize}, Adam lr ${NEURAL.learningRate}, ` +
    `id dropout ${NEURAL.itemIdDropout} (examples/rental-recs settings); item features: listings.csv numeric columns, room type, instant_bookable, superhost; ` +
    `trained with the data-parallel Trainer on a local init({ numCpus: 2 }) cluster; one fit per seed; same split, exclusions and metric code as ALS; most popular: HR@10 ${pop.hr.toFixed(4)}, NDCG@10 ${pop.ndcg.toFixed(4)}`;
  const out: BenchResult[] = [];
  for (const [key, name] of [['hr', 'HR@10'], ['ndcg', 'NDCG@10']] as const) {
    out.push(makeResult({
      metric: `Albany ${name}, neural, negatives resampled every epoch (1 worker)`, unit: name, better: 'higher', samples: runs.perEpoch.map((m) => m[key]),
      baseline: 'negatives sampled once per fit (same seeds)', baselineSamples: runs.once.map((m) => m[key]), notes: setting,
    }));
  }
  for (const [key, name] of [['hr', 'HR@10'], ['ndcg', 'NDCG@10']] as const) {
    out.push(makeResult({
      metric: `Albany ${name}, neural, 2 workers (averaging every ${NEURAL.syncEveryNSteps} steps)`, unit: name, better: 'higher', samples: runs.two.map((m) => m[key]),
      baseline: '1 worker (same seeds, same global batch)', baselineSamples: runs.perEpoch.map((m) => m[key]), notes: setting,
    }));
  }
  out.push(makeResult({
    metric: 'neural training wall time on Albany, 2 workers', unit: 'ms', better: 'lower', samples: runs.twoMs,
    baseline: '1 worker (same run)', baselineSamples: runs.oneMs,
    notes: `${setting}; wall time of the Trainer's fit (placement, worker start-up incl. loading tfjs, ${NEURAL.epochs} epochs, collecting weights), not data preparation; 1-min load average ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)} during the runs. ` +
      `Per epoch after the first (median over seeds, mean over workers): 1 worker computes ${median(runs.oneCompute).toFixed(0)} ms; ` +
      `2 workers compute ${median(runs.twoCompute).toFixed(0)} ms each and spend ${median(runs.twoComm).toFixed(0)} ms averaging — the state averaged holds the user embedding table (${users} users × ${NEURAL.embeddingDim}) and its two Adam moments`,
  }));
  return out;
}

if (isMain(import.meta)) {
  const ctx: BenchContext = { suite: 'als-albany', runs: 3, enabled: () => true, log: (m) => process.stderr.write(`${m}\n`) };
  run(ctx).then(
    (results) => {
      for (const r of results) process.stdout.write(`${r.metric}: ${r.value.toFixed(4)} (most popular ${r.baselineValue.toFixed(4)})\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
