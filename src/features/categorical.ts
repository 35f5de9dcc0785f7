/**
 * Categorical stages. Categories are compared by their string form (numbers and booleans are
 * stringified, like Spark's StringIndexer). Policies for null and categories unseen at fit time:
 * StringIndexer and OneHotEncoder follow `handleInvalid`; FrequencyEncoder maps them to the smoothed
 * frequency of a zero count; TargetEncoder to the global prior.
 */
import type * as arrow from 'apache-arrow';
import { agg, col, type Dataset } from '../data/index.js';
import { float32ListVector, float64Vector, keepRows, readNumbers, readStrings, setColumns, vectorOf } from './columns.js';
import { cBool, cFloat64, cNumber, cOneOf, cString, cStrings } from './config.js';
import { InvalidValueError } from './errors.js';
import { FeatureModel, registerFeatureModel, type Featurizer, type StageConfig } from './featurizer.js';
import { aggregateRow, checkColumns, num, requireRows } from './fit-stats.js';
import { columnList, nonNegative, oneOf, type HandleInvalid } from './options.js';

const CATEGORY_KINDS = ['string', 'numeric', 'bool'] as const;

function single(stage: string, option: string, v: unknown): string {
  return columnList(stage, option, v)[0]!;
}

/** Category counts over non-null values: distributed groupBy + count. */
async function categoryCounts(dataset: Dataset, column: string, extra: Parameters<Dataset['agg']> = []): Promise<{ labels: string[]; counts: number[]; extras: number[][] }> {
  const t = await dataset.filter(col(column).isNotNull()).groupBy(column).agg(agg.count(undefined, '__n'), ...extra).collect();
  const labels = readStrings(vectorOf(t, column)) as string[];
  const counts = Array.from(readNumbers(vectorOf(t, '__n')).values);
  const extras = extra.map((s) => Array.from(readNumbers(vectorOf(t, s.as!)).values));
  return { labels, counts, extras };
}

export interface StringIndexerOptions {
  readonly inputCol: string;
  /** @default `${inputCol}_index` */
  readonly outputCol?: string;
  /** Null or unseen category at transform time: throw, drop the row, or map to index `labels.length`. @default 'error' */
  readonly handleInvalid?: HandleInvalid;
}

/** Indexes categories by descending frequency (ties: ascending label); index 0 is the most frequent. */
export class StringIndexer implements Featurizer<StringIndexerModel> {
  static readonly className = 'StringIndexer';
  readonly className = StringIndexer.className;
  readonly inputCol: string;
  readonly outputCol: string;
  readonly handleInvalid: HandleInvalid;
  constructor(options: StringIndexerOptions) {
    this.inputCol = single(this.className, 'inputCol', options.inputCol);
    this.outputCol = options.outputCol ?? `${this.inputCol}_index`;
    this.handleInvalid = oneOf(this.className, 'handleInvalid', options.handleInvalid, ['error', 'skip', 'keep'] as const, 'error');
  }
  async fit(dataset: Dataset): Promise<StringIndexerModel> {
    await checkColumns(dataset, [this.inputCol], this.className, CATEGORY_KINDS);
    const { labels, counts } = await categoryCounts(dataset, this.inputCol);
    requireRows(labels.length, this.className, this.inputCol);
    const order = labels.map((_, i) => i).sort((a, b) => counts[b]! - counts[a]! || (labels[a]! < labels[b]! ? -1 : labels[a]! > labels[b]! ? 1 : 0));
    return new StringIndexerModel(this.inputCol, this.outputCol, this.handleInvalid, order.map((i) => labels[i]!));
  }
}

export class StringIndexerModel extends FeatureModel {
  readonly className = 'StringIndexerModel';
  private readonly index: Map<string, number>;
  constructor(
    readonly inputCol: string,
    readonly outputCol: string,
    readonly handleInvalid: HandleInvalid,
    readonly labels: readonly string[],
  ) {
    super();
    this.index = new Map(labels.map((l, i) => [l, i]));
  }
  transformTable(table: arrow.Table): arrow.Table {
    const values = readStrings(vectorOf(table, this.inputCol));
    const out = new Float64Array(values.length);
    const keep = new Uint8Array(values.length).fill(1);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const idx = v === null ? undefined : this.index.get(v);
      if (idx !== undefined) out[i] = idx;
      else if (this.handleInvalid === 'keep') out[i] = this.labels.length;
      else if (this.handleInvalid === 'skip') keep[i] = 0;
      else throw new InvalidValueError(v === null ? 'null value (handleInvalid is "error")' : `category "${v}" was not seen at fit time (handleInvalid is "error")`, { stage: this.className, column: this.inputCol, value: v });
    }
    return keepRows(setColumns(table, [[this.outputCol, float64Vector(out)]]), keep);
  }
  getConfig(): StageConfig {
    return { inputCol: this.inputCol, outputCol: this.outputCol, handleInvalid: this.handleInvalid, labels: this.labels };
  }
}
registerFeatureModel('StringIndexerModel', (c) => new StringIndexerModel(cString(c, 'inputCol'), cString(c, 'outputCol'), cOneOf(c, 'handleInvalid', ['error', 'skip', 'keep'] as const), cStrings(c, 'labels')));

export interface OneHotEncoderOptions {
  /** A column of category indices (e.g. a StringIndexer output). */
  readonly inputCol: string;
  /** @default `${inputCol}_vec` */
  readonly outputCol?: string;
  /** Drop the last category's slot (avoids collinearity). @default false */
  readonly dropLast?: boolean;
  /** An index outside [0, size) or null: throw, or set an extra last slot. @default 'error' */
  readonly handleInvalid?: 'error' | 'keep';
}

/** Category index → dense one-hot vector (List<Float32>); size = max index seen at fit + 1. */
export class OneHotEncoder implements Featurizer<OneHotEncoderModel> {
  static readonly className = 'OneHotEncoder';
  readonly className = OneHotEncoder.className;
  readonly inputCol: string;
  constructor(private readonly options: OneHotEncoderOptions) {
    this.inputCol = single(this.className, 'inputCol', options.inputCol);
    oneOf(this.className, 'handleInvalid', options.handleInvalid, ['error', 'keep'] as const, 'error');
  }
  async fit(dataset: Dataset): Promise<OneHotEncoderModel> {
    await checkColumns(dataset, [this.inputCol], this.className, ['numeric']);
    const row = await aggregateRow(dataset, [agg.max(this.inputCol, 'hi'), agg.count(this.inputCol, 'n')]);
    requireRows(row['n'], this.className, this.inputCol);
    return new OneHotEncoderModel(this.inputCol, this.options.outputCol ?? `${this.inputCol}_vec`, num(row['hi']) + 1, this.options.dropLast ?? false, this.options.handleInvalid ?? 'error');
  }
}

export class OneHotEncoderModel extends FeatureModel {
  readonly className = 'OneHotEncoderModel';
  constructor(
    readonly inputCol: string,
    readonly outputCol: string,
    readonly categories: number,
    readonly dropLast: boolean,
    readonly handleInvalid: 'error' | 'keep',
  ) {
    super();
  }
  /** Output vector length. */
  get size(): number {
    return this.categories + (this.handleInvalid === 'keep' ? 1 : 0) - (this.dropLast ? 1 : 0);
  }
  transformTable(table: arrow.Table): arrow.Table {
    const { values, valid } = readNumbers(vectorOf(table, this.inputCol));
    const width = this.size;
    const out = new Float32Array(values.length * width);
    for (let i = 0; i < values.length; i++) {
      let idx = values[i]!;
      if (valid[i] === 0 || !Number.isInteger(idx) || idx < 0 || idx >= this.categories) {
        if (this.handleInvalid === 'error') throw new InvalidValueError('category index outside the fitted range (handleInvalid is "error")', { stage: this.className, column: this.inputCol, value: valid[i] === 0 ? null : idx });
        idx = this.categories;
      }
      if (idx < width) out[i * width + idx] = 1;
    }
    return setColumns(table, [[this.outputCol, float32ListVector(out, width, values.length)]]);
  }
  getConfig(): StageConfig {
    return { inputCol: this.inputCol, outputCol: this.outputCol, categories: this.categories, dropLast: this.dropLast, handleInvalid: this.handleInvalid };
  }
}
registerFeatureModel('OneHotEncoderModel', (c) => new OneHotEncoderModel(cString(c, 'inputCol'), cString(c, 'outputCol'), cNumber(c, 'categories'), cBool(c, 'dropLast'), cOneOf(c, 'handleInvalid', ['error', 'keep'] as const)));

/** A category → number lookup with a default (for FrequencyEncoder and TargetEncoder). */
export class CategoryMapModel extends FeatureModel {
  private readonly map: Map<string, number>;
  constructor(
    readonly className: 'FrequencyEncoderModel' | 'TargetEncoderModel',
    readonly inputCol: string,
    readonly outputCol: string,
    readonly labels: readonly string[],
    readonly values: Float64Array,
    readonly defaultValue: number,
  ) {
    super();
    this.map = new Map(labels.map((l, i) => [l, values[i]!]));
  }
  transformTable(table: arrow.Table): arrow.Table {
    const cats = readStrings(vectorOf(table, this.inputCol));
    const out = Float64Array.from(cats, (v) => (v === null ? this.defaultValue : this.map.get(v) ?? this.defaultValue));
    return setColumns(table, [[this.outputCol, float64Vector(out)]]);
  }
  getConfig(): StageConfig {
    return { inputCol: this.inputCol, outputCol: this.outputCol, labels: this.labels, values: this.values, defaultValue: this.defaultValue };
  }
}
for (const name of ['FrequencyEncoderModel', 'TargetEncoderModel'] as const) {
  registerFeatureModel(name, (c) => new CategoryMapModel(name, cString(c, 'inputCol'), cString(c, 'outputCol'), cStrings(c, 'labels'), cFloat64(c, 'values'), cNumber(c, 'defaultValue')));
}

export interface FrequencyEncoderOptions {
  readonly inputCol: string;
  /** @default `${inputCol}_freq` */
  readonly outputCol?: string;
  /** Additive (Laplace) smoothing α: (count + α) / (N + α·(K + 1)), K categories; unseen → α / (N + α·(K + 1)). @default 0 */
  readonly smoothing?: number;
}

/** Category → its (smoothed) relative frequency in the fit data. */
export class FrequencyEncoder implements Featurizer<CategoryMapModel> {
  static readonly className = 'FrequencyEncoder';
  readonly className = FrequencyEncoder.className;
  readonly inputCol: string;
  readonly smoothing: number;
  constructor(private readonly options: FrequencyEncoderOptions) {
    this.inputCol = single(this.className, 'inputCol', options.inputCol);
    this.smoothing = nonNegative(this.className, 'smoothing', options.smoothing, 0);
  }
  async fit(dataset: Dataset): Promise<CategoryMapModel> {
    await checkColumns(dataset, [this.inputCol], this.className, CATEGORY_KINDS);
    const { labels, counts } = await categoryCounts(dataset, this.inputCol);
    requireRows(labels.length, this.className, this.inputCol);
    const n = counts.reduce((a, b) => a + b, 0);
    const denom = n + this.smoothing * (labels.length + 1);
    return new CategoryMapModel('FrequencyEncoderModel', this.inputCol, this.options.outputCol ?? `${this.inputCol}_freq`, labels, Float64Array.from(counts, (c) => (c + this.smoothing) / denom), this.smoothing / denom);
  }
}

export interface TargetEncoderOptions {
  readonly inputCol: string;
  /** Numeric target (rows with a null target are ignored at fit). */
  readonly targetCol: string;
  /** @default `${inputCol}_te` */
  readonly outputCol?: string;
  /** Prior weight m: (n·mean + m·prior) / (n + m); unseen and null categories → prior (the global target mean). @default 10 */
  readonly smoothing?: number;
}

/** Category → smoothed mean of the target (m-estimate). */
export class TargetEncoder implements Featurizer<CategoryMapModel> {
  static readonly className = 'TargetEncoder';
  readonly className = TargetEncoder.className;
  readonly inputCol: string;
  readonly targetCol: string;
  readonly smoothing: number;
  constructor(private readonly options: TargetEncoderOptions) {
    this.inputCol = single(this.className, 'inputCol', options.inputCol);
    this.targetCol = single(this.className, 'targetCol', options.targetCol);
    this.smoothing = nonNegative(this.className, 'smoothing', options.smoothing, 10);
  }
  async fit(dataset: Dataset): Promise<CategoryMapModel> {
    await checkColumns(dataset, [this.inputCol], this.className, CATEGORY_KINDS);
    await checkColumns(dataset, [this.targetCol], this.className, ['numeric', 'bool']);
    const withTarget = dataset.filter(col(this.targetCol).isNotNull());
    const g = await aggregateRow(withTarget, [agg.mean(this.targetCol, 'prior'), agg.count(undefined, 'n')]);
    requireRows(g['n'], this.className, this.targetCol);
    const prior = num(g['prior']);
    const { labels, counts, extras } = await categoryCounts(withTarget, this.inputCol, [agg.mean(this.targetCol, '__mean')]);
    const means = extras[0]!;
    const m = this.smoothing;
    return new CategoryMapModel('TargetEncoderModel', this.inputCol, this.options.outputCol ?? `${this.inputCol}_te`, labels, Float64Array.from(counts, (n, i) => (n * means[i]! + m * prior) / (n + m)), prior);
  }
}
