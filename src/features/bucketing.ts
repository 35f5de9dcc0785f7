/**
 * Bucketizer (fixed split points) and QuantileDiscretizer (split points at approximate quantiles; see
 * quantile-sketch.ts for the error bound). Bucket i holds [splits[i], splits[i+1]); the last bucket
 * also holds its upper bound. Null, NaN and out-of-range values follow `handleInvalid`: 'error'
 * throws, 'skip' drops the row, 'keep' puts them in an extra bucket numBuckets.
 */
import type * as arrow from 'apache-arrow';
import type { Dataset } from '../data/index.js';
import { float64Vector, keepRows, readNumbers, setColumns, vectorOf } from './columns.js';
import { cNumbers, cOneOf, cString } from './config.js';
import { invalidOption, InvalidValueError } from './errors.js';
import { FeatureModel, registerFeatureModel, type Featurizer, type StageConfig } from './featurizer.js';
import { checkColumns, quantileSummaries, requireRows } from './fit-stats.js';
import { oneOf, positiveInt, type HandleInvalid } from './options.js';
import { sketchK } from './quantile-sketch.js';

export interface BucketizerOptions {
  readonly inputCol: string;
  /** @default `${inputCol}_bucket` */
  readonly outputCol?: string;
  /** Strictly increasing split points (at least 3; use ±Infinity to cover everything). */
  readonly splits: readonly number[];
  /** @default 'error' */
  readonly handleInvalid?: HandleInvalid;
}

export class BucketizerModel extends FeatureModel {
  readonly className = 'Bucketizer';
  constructor(
    readonly inputCol: string,
    readonly outputCol: string,
    readonly splits: readonly number[],
    readonly handleInvalid: HandleInvalid,
  ) {
    super();
    if (splits.length < 3 || splits.some((s, i) => i > 0 && !(s > splits[i - 1]!))) throw invalidOption('options.splits', 'must be at least 3 strictly increasing numbers', { stage: 'Bucketizer', column: inputCol });
  }
  transformTable(table: arrow.Table): arrow.Table {
    const { values, valid } = readNumbers(vectorOf(table, this.inputCol));
    const s = this.splits;
    const nb = s.length - 1;
    const out = new Float64Array(values.length);
    const keep = new Uint8Array(values.length).fill(1);
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      let b = -1;
      if (valid[i] === 1 && x >= s[0]! && x <= s[nb]!) {
        let lo = 0;
        let hi = nb - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (s[mid]! <= x) lo = mid;
          else hi = mid - 1;
        }
        b = lo;
      }
      if (b >= 0) out[i] = b;
      else if (this.handleInvalid === 'keep') out[i] = nb;
      else if (this.handleInvalid === 'skip') keep[i] = 0;
      else throw new InvalidValueError('value is null, NaN or outside the splits (handleInvalid is "error")', { stage: this.className, column: this.inputCol, value: valid[i] === 1 ? x : null });
    }
    return keepRows(setColumns(table, [[this.outputCol, float64Vector(out)]]), keep);
  }
  getConfig(): StageConfig {
    return { inputCol: this.inputCol, outputCol: this.outputCol, splits: this.splits.map((x) => (Number.isFinite(x) ? x : x > 0 ? 'Infinity' : '-Infinity')), handleInvalid: this.handleInvalid };
  }
}
registerFeatureModel('Bucketizer', (c) => {
  const raw = c['splits'];
  const splits = Array.isArray(raw) ? raw.map((x: unknown) => (x === 'Infinity' ? Infinity : x === '-Infinity' ? -Infinity : x)) : raw;
  return new BucketizerModel(cString(c, 'inputCol'), cString(c, 'outputCol'), cNumbers({ splits }, 'splits'), cOneOf(c, 'handleInvalid', ['error', 'skip', 'keep'] as const));
});

/** Fixed splits; `fit` only checks the column type. */
export class Bucketizer implements Featurizer<BucketizerModel> {
  static readonly className = 'Bucketizer';
  readonly className = Bucketizer.className;
  readonly model: BucketizerModel;
  constructor(options: BucketizerOptions) {
    this.model = new BucketizerModel(options.inputCol, options.outputCol ?? `${options.inputCol}_bucket`, [...options.splits], oneOf('Bucketizer', 'handleInvalid', options.handleInvalid, ['error', 'skip', 'keep'] as const, 'error'));
  }
  async fit(dataset: Dataset): Promise<BucketizerModel> {
    await checkColumns(dataset, [this.model.inputCol], this.className, ['numeric', 'bool']);
    return this.model;
  }
}

export interface QuantileDiscretizerOptions {
  readonly inputCol: string;
  /** @default `${inputCol}_bucket` */
  readonly outputCol?: string;
  /** @default 2 */
  readonly numBuckets?: number;
  /** Rank error ε of the split points: each split's true rank is within ε·N of its target. @default 0.001 */
  readonly relativeError?: number;
  /** @default 'error' */
  readonly handleInvalid?: HandleInvalid;
}

/** Buckets by approximate quantiles: splits at q = 1/n … (n-1)/n (duplicates merged), outer splits ±Infinity. */
export class QuantileDiscretizer implements Featurizer<BucketizerModel> {
  static readonly className = 'QuantileDiscretizer';
  readonly className = QuantileDiscretizer.className;
  readonly numBuckets: number;
  readonly inputCol: string;
  constructor(private readonly options: QuantileDiscretizerOptions) {
    this.inputCol = options.inputCol;
    this.numBuckets = positiveInt(this.className, 'numBuckets', options.numBuckets, 2);
    oneOf(this.className, 'handleInvalid', options.handleInvalid, ['error', 'skip', 'keep'] as const, 'error');
    const e = options.relativeError;
    if (e !== undefined && !(e > 0 && e < 1)) throw invalidOption('options.relativeError', `must be in (0, 1); got ${e}`, { stage: this.className });
  }
  async fit(dataset: Dataset): Promise<BucketizerModel> {
    const c = this.options.inputCol;
    await checkColumns(dataset, [c], this.className, ['numeric', 'bool']);
    const summary = (await quantileSummaries(dataset, [c], sketchK(this.options.relativeError ?? 0.001))).get(c)!;
    requireRows(summary.count, this.className, c);
    const inner: number[] = [];
    for (let i = 1; i < this.numBuckets; i++) {
      const q = summary.quantile(i / this.numBuckets);
      if (inner.length === 0 || q > inner[inner.length - 1]!) inner.push(q);
    }
    const splits = [-Infinity, ...inner.filter((x) => Number.isFinite(x)), Infinity];
    if (splits.length < 3) splits.splice(1, 0, summary.quantile(0.5));
    return new BucketizerModel(c, this.options.outputCol ?? `${c}_bucket`, splits, this.options.handleInvalid ?? 'error');
  }
}
