/**
 * Distributed block ALS (Spark MLlib's algorithm and parameters). The driver indexes ids, splits
 * users and items into contiguous blocks, and puts each block's ratings in the object store once
 * (CSR by user block and by item block). Each iteration is two half-steps — items from user
 * factors, then users from item factors — of one solve task per destination block, which receives
 * its ratings block and the source factor parts as top-level refs: the runtime resolves them
 * before the task runs, so dependencies chain inside the runtime and the driver only waits once per
 * iteration to free the previous factors (no task blocks in a nested `get()` holding a CPU).
 */
import { autologALSFit } from '../autolog.js';
import { clusterStatus, free, get, isInitialized, NotInitializedError, put, wait, type ObjectRef } from '../../core/index.js';
import { InvalidTrainingDataError } from '../errors.js';
import { blockBounds, blockRatings, buildCsr, indexRawIds, readRawRatingColumns, type RatingsInput } from './als-data.js';
import { ALSModel } from './als-model.js';
import { writeALSModel } from './als-model-io.js';
import { compileALSOptions, type ALSOptions, type CompiledALSOptions } from './als-options.js';
import { gatherRowsTask, solveBlockTask, type SolveTaskParams } from './als-tasks.js';
import { gram, initFactors, type FactorPart, type RatingsBlock } from './kernels.js';

/** One side's blocked state on the cluster. */
interface Side {
  bounds: Int32Array;
  /** Ratings by this side's blocks (rows = this side's entities). */
  blocks: ObjectRef<RatingsBlock>[];
  /** Gather mode: gather[d][s] = rows of the other side's block s that block d needs. */
  gather: ObjectRef<Int32Array>[][] | undefined;
}

/** Timing of one fit, for benchmarks and logs. */
export interface ALSFitStats {
  prepareMs: number;
  iterationMs: number[];
  factorExchange: 'whole' | 'gather';
  numUserBlocks: number;
  numItemBlocks: number;
}

/**
 * Alternating least squares for collaborative filtering, distributed over the cluster.
 *
 * @example
 * ```ts
 * const model = await new ALS({ rank: 10, maxIter: 10, regParam: 0.1 }).fit(ratings); // Arrow Table, rows or Dataset
 * const scored = await model.transform(test);           // adds `prediction`
 * const top = await model.recommendForAllUsers(10);
 * ```
 */
export class ALS {
  readonly options: CompiledALSOptions;
  /** Timings of the last `fit()`. */
  lastFitStats: ALSFitStats | undefined;

  constructor(options: ALSOptions = {}) {
    this.options = compileALSOptions(options);
  }

  /** Trains on (user, item, rating) rows. Needs a cluster (`init()`). */
  async fit(input: RatingsInput): Promise<ALSModel> {
    if (!isInitialized()) throw new NotInitializedError('ALS.fit()');
    const o = this.options;
    const started = performance.now();
    // The raw columns, id indices and CSRs (tens of bytes per rating) live only inside prepare():
    // once the blocks are in the object store, the driver keeps just the ids and the refs.
    const { userIds, itemIds, userLabels, itemLabels, uBounds, iBounds, userSide, itemSide, exchange } = await this.prepare(input);
    const labels = { userLabels, itemLabels };
    const numUsers = userIds.length;
    const params: SolveTaskParams = {
      rank: o.rank, regParam: o.regParam, implicitPrefs: o.implicitPrefs, alpha: o.alpha, nonnegative: o.nonnegative,
      computeGram: o.implicitPrefs, cgSteps: o.solver === 'cg' ? o.cgSteps : 0,
    };
    // Items are solved first (like Spark), so only the user factors need an initial value.
    const userInit = initFactors(numUsers, o.rank, o.seed, 'user');
    let userParts: ObjectRef<FactorPart>[] = [];
    for (let b = 0; b + 1 < uBounds.length; b++) {
      const factors = userInit.slice(uBounds[b]! * o.rank, uBounds[b + 1]! * o.rank);
      userParts.push(put(o.implicitPrefs ? { factors, gram: gram(factors, o.rank) } : { factors }));
    }
    let itemParts: ObjectRef<FactorPart>[] = [];
    const prepareMs = performance.now() - started;
    const iterationMs: number[] = [];
    try {
      for (let iter = 1; iter <= o.maxIter; iter++) {
        const t0 = performance.now();
        const nextItems = this.halfStep(itemSide, userParts, params, itemParts);
        const nextUsers = this.halfStep(userSide, nextItems.parts, params, userParts);
        await wait(nextUsers.parts, { numReturns: nextUsers.parts.length });
        // Surface a failed solve here, with its typed error.
        await get(nextUsers.parts.length ? [nextUsers.parts[0]!] : []);
        free([...userParts, ...itemParts, ...nextItems.temporary, ...nextUsers.temporary]);
        userParts = nextUsers.parts;
        itemParts = nextItems.parts;
        const durationMs = performance.now() - t0;
        iterationMs.push(durationMs);
        o.onIteration?.({ iteration: iter, durationMs });
        if (o.checkpointDir && iter % o.checkpointInterval === 0 && iter < o.maxIter) {
          // A checkpoint of the same iteration from an earlier run is replaced.
          await writeALSModel(`${o.checkpointDir}/iter-${iter}`, await this.collect(userIds, itemIds, labels, userParts, itemParts, iter), { overwrite: true });
        }
      }
      const saved = await this.collect(userIds, itemIds, labels, userParts, itemParts, o.maxIter);
      if (o.checkpointDir && o.maxIter % o.checkpointInterval === 0) await writeALSModel(`${o.checkpointDir}/iter-${o.maxIter}`, saved, { overwrite: true });
      this.lastFitStats = { prepareMs, iterationMs, factorExchange: exchange, numUserBlocks: uBounds.length - 1, numItemBlocks: iBounds.length - 1 };
      await autologALSFit(
        { rank: o.rank, maxIter: o.maxIter, regParam: o.regParam, implicitPrefs: o.implicitPrefs, alpha: o.alpha, nonnegative: o.nonnegative, solver: o.solver, seed: o.seed },
        { prepareMs, iterationMs, numUsers, numItems: itemIds.length },
      );
      return new ALSModel(
        o.rank,
        { ids: userIds, factors: saved.userFactors, rank: o.rank, labels: userLabels },
        { ids: itemIds, factors: saved.itemFactors, rank: o.rank, labels: itemLabels },
        saved.params as ALSModel['params'],
      );
    } finally {
      free([...userParts, ...itemParts, ...userSide.blocks, ...itemSide.blocks, ...(userSide.gather ?? []).flat(), ...(itemSide.gather ?? []).flat()]);
    }
  }

  /** Reads, indexes and blocks the ratings and puts each side's blocks in the object store once. */
  private async prepare(input: RatingsInput) {
    const o = this.options;
    const cols = await readRawRatingColumns(input, o.userCol, o.itemCol, o.ratingCol);
    if (cols.numRows === 0) throw new InvalidTrainingDataError('ALS needs at least one rating (the input is empty)');
    const users = indexRawIds(cols.users);
    const items = indexRawIds(cols.items);
    const numUsers = users.ids.length;
    const numItems = items.ids.length;
    const uBounds = blockBounds(numUsers, Math.min(o.numUserBlocks, numUsers));
    const iBounds = blockBounds(numItems, Math.min(o.numItemBlocks, numItems));
    let exchange: 'whole' | 'gather';
    if (o.factorExchange === 'auto') {
      const status = await clusterStatus();
      exchange = status.nodes.filter((n) => n.alive).length > 1 ? 'gather' : 'whole';
    } else exchange = o.factorExchange;
    const ratings = cols.ratings!;
    const userSide = this.placeSide(buildCsr(users.index, items.index, ratings, numUsers), uBounds, iBounds, exchange);
    const itemSide = this.placeSide(buildCsr(items.index, users.index, ratings, numItems), iBounds, uBounds, exchange);
    return { userIds: users.ids, itemIds: items.ids, userLabels: users.labels, itemLabels: items.labels, uBounds, iBounds, userSide, itemSide, exchange };
  }

  private placeSide(csr: ReturnType<typeof buildCsr>, bounds: Int32Array, otherBounds: Int32Array, exchange: 'whole' | 'gather'): Side {
    const blocked = blockRatings(csr, bounds, otherBounds, exchange === 'gather');
    return {
      bounds,
      blocks: blocked.blocks.map((b) => put(b)),
      gather: blocked.gather?.map((perSrc) => perSrc.map((rows) => put(rows))),
    };
  }

  /** Submits one solve task per block of `dst` against the source parts; returns the new parts. */
  private halfStep(dst: Side, srcParts: ObjectRef<FactorPart>[], params: SolveTaskParams, prevParts: ObjectRef<FactorPart>[]): { parts: ObjectRef<FactorPart>[]; temporary: ObjectRef<FactorPart>[] } {
    const temporary: ObjectRef<FactorPart>[] = [];
    const parts = dst.blocks.map((block, d) => {
      let inputs = srcParts;
      if (dst.gather) {
        inputs = srcParts.map((part, s) => gatherRowsTask.remote(part, dst.gather![d]![s]!, params.rank));
        temporary.push(...inputs);
      }
      // CG warm-starts from the block's previous factors; exact solves do not need them.
      const prev = params.cgSteps > 0 ? (prevParts[d] ?? null) : null;
      return solveBlockTask.remote(block, params, prev, ...inputs);
    });
    return { parts, temporary };
  }

  private async collect(userIds: Float64Array, itemIds: Float64Array, labels: { userLabels: string[] | undefined; itemLabels: string[] | undefined }, userParts: ObjectRef<FactorPart>[], itemParts: ObjectRef<FactorPart>[], iteration: number) {
    const o = this.options;
    const concat = (parts: FactorPart[], n: number): Float32Array => {
      const out = new Float32Array(n * o.rank);
      let at = 0;
      for (const p of parts) {
        out.set(p.factors, at);
        at += p.factors.length;
      }
      return out;
    };
    const [u, i] = await Promise.all([get(userParts), get(itemParts)]);
    return {
      rank: o.rank,
      params: modelParams(o, iteration),
      userIds, itemIds, ...labels,
      userFactors: concat(u, userIds.length),
      itemFactors: concat(i, itemIds.length),
    };
  }
}

function modelParams(o: CompiledALSOptions, iteration: number): Record<string, unknown> {
  return {
    userCol: o.userCol, itemCol: o.itemCol, ratingCol: o.ratingCol, predictionCol: o.predictionCol, coldStartStrategy: o.coldStartStrategy,
    rank: o.rank, maxIter: o.maxIter, iteration, regParam: o.regParam, implicitPrefs: o.implicitPrefs, alpha: o.alpha,
    nonnegative: o.nonnegative, seed: o.seed, solver: o.solver, ...(o.solver === 'cg' ? { cgSteps: o.cgSteps } : {}),
  };
}
