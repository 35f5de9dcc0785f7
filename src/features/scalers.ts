/**
 * StandardScaler and MinMaxScaler. Fit: one global aggregate (mean, sample stddev, min, max, count per
 * column). Policy: null/NaN inputs stay null; a constant column (stddev 0 / range 0) maps to 0
 * (StandardScaler) or to the middle of the target range (MinMaxScaler), as Spark does.
 */
import type * as arrow from 'apache-arrow';
import { agg, type Dataset } from '../data/index.js';
import { float64Vector, readNumbers, setColumns, vectorOf } from './columns.js';
import { cBool, cFloat64, cNumber, cStrings } from './config.js';
import { FeatureModel, registerFeatureModel, type Featurizer, type StageConfig } from './featurizer.js';
import { aggregateRow, checkColumns, num, requireRows } from './fit-stats.js';
import { columnList, outputList } from './options.js';

export interface StandardScalerOptions {
  readonly inputCols: string | readonly string[];
  /** @default the input names (replaced in place) */
  readonly outputCols?: string | readonly string[];
  /** Subtract the mean. @default true */
  readonly withMean?: boolean;
  /** Divide by the sample standard deviation. @default true */
  readonly withStd?: boolean;
}

export class StandardScaler implements Featurizer<StandardScalerModel> {
  static readonly className = 'StandardScaler';
  readonly className = StandardScaler.className;
  readonly inputCols: string[];
  readonly outputCols: string[];
  constructor(private readonly options: StandardScalerOptions) {
    this.inputCols = columnList(this.className, 'inputCols', options.inputCols);
    this.outputCols = outputList(this.className, this.inputCols, options.outputCols, '');
  }
  async fit(dataset: Dataset): Promise<StandardScalerModel> {
    await checkColumns(dataset, this.inputCols, this.className, ['numeric', 'bool']);
    const row = await aggregateRow(dataset, this.inputCols.flatMap((c, i) => [agg.mean(c, `m${i}`), agg.stddev(c, `s${i}`), agg.count(c, `n${i}`)]));
    this.inputCols.forEach((c, i) => requireRows(row[`n${i}`], this.className, c));
    const mean = Float64Array.from(this.inputCols, (_, i) => num(row[`m${i}`]));
    const std = Float64Array.from(this.inputCols, (_, i) => (Number.isFinite(num(row[`s${i}`])) ? num(row[`s${i}`]) : 0));
    return new StandardScalerModel(this.inputCols, this.outputCols, mean, std, this.options.withMean ?? true, this.options.withStd ?? true);
  }
}

export class StandardScalerModel extends FeatureModel {
  readonly className = 'StandardScalerModel';
  constructor(
    readonly inputCols: readonly string[],
    readonly outputCols: readonly string[],
    readonly mean: Float64Array,
    readonly std: Float64Array,
    readonly withMean: boolean,
    readonly withStd: boolean,
  ) {
    super();
  }
  transformTable(table: arrow.Table): arrow.Table {
    return setColumns(
      table,
      this.inputCols.map((c, j) => {
        const { values, valid } = readNumbers(vectorOf(table, c));
        const m = this.withMean ? this.mean[j]! : 0;
        const s = this.std[j]!;
        const out = new Float64Array(values.length);
        for (let i = 0; i < values.length; i++) {
          if (Number.isNaN(values[i])) valid[i] = 0;
          const centered = values[i]! - m;
          out[i] = this.withStd ? (s === 0 ? 0 : centered / s) : centered;
        }
        return [this.outputCols[j]!, float64Vector(out, valid)] as const;
      }),
    );
  }
  getConfig(): StageConfig {
    return { inputCols: this.inputCols, outputCols: this.outputCols, mean: this.mean, std: this.std, withMean: this.withMean, withStd: this.withStd };
  }
}
registerFeatureModel('StandardScalerModel', (c) => new StandardScalerModel(cStrings(c, 'inputCols'), cStrings(c, 'outputCols'), cFloat64(c, 'mean'), cFloat64(c, 'std'), cBool(c, 'withMean'), cBool(c, 'withStd')));

export interface MinMaxScalerOptions {
  readonly inputCols: string | readonly string[];
  /** @default the input names (replaced in place) */
  readonly outputCols?: string | readonly string[];
  /** @default 0 */
  readonly min?: number;
  /** @default 1 */
  readonly max?: number;
}

export class MinMaxScaler implements Featurizer<MinMaxScalerModel> {
  static readonly className = 'MinMaxScaler';
  readonly className = MinMaxScaler.className;
  readonly inputCols: string[];
  readonly outputCols: string[];
  constructor(private readonly options: MinMaxScalerOptions) {
    this.inputCols = columnList(this.className, 'inputCols', options.inputCols);
    this.outputCols = outputList(this.className, this.inputCols, options.outputCols, '');
  }
  async fit(dataset: Dataset): Promise<MinMaxScalerModel> {
    await checkColumns(dataset, this.inputCols, this.className, ['numeric', 'bool']);
    const row = await aggregateRow(dataset, this.inputCols.flatMap((c, i) => [agg.min(c, `lo${i}`), agg.max(c, `hi${i}`), agg.count(c, `n${i}`)]));
    this.inputCols.forEach((c, i) => requireRows(row[`n${i}`], this.className, c));
    return new MinMaxScalerModel(this.inputCols, this.outputCols, Float64Array.from(this.inputCols, (_, i) => num(row[`lo${i}`])), Float64Array.from(this.inputCols, (_, i) => num(row[`hi${i}`])), this.options.min ?? 0, this.options.max ?? 1);
  }
}

export class MinMaxScalerModel extends FeatureModel {
  readonly className = 'MinMaxScalerModel';
  constructor(
    readonly inputCols: readonly string[],
    readonly outputCols: readonly string[],
    readonly originalMin: Float64Array,
    readonly originalMax: Float64Array,
    readonly min: number,
    readonly max: number,
  ) {
    super();
  }
  transformTable(table: arrow.Table): arrow.Table {
    return setColumns(
      table,
      this.inputCols.map((c, j) => {
        const { values, valid } = readNumbers(vectorOf(table, c));
        const lo = this.originalMin[j]!;
        const range = this.originalMax[j]! - lo;
        const out = new Float64Array(values.length);
        for (let i = 0; i < values.length; i++) {
          if (Number.isNaN(values[i])) valid[i] = 0;
          out[i] = range === 0 ? 0.5 * (this.max + this.min) : ((values[i]! - lo) / range) * (this.max - this.min) + this.min;
        }
        return [this.outputCols[j]!, float64Vector(out, valid)] as const;
      }),
    );
  }
  getConfig(): StageConfig {
    return { inputCols: this.inputCols, outputCols: this.outputCols, originalMin: this.originalMin, originalMax: this.originalMax, min: this.min, max: this.max };
  }
}
registerFeatureModel('MinMaxScalerModel', (c) => new MinMaxScalerModel(cStrings(c, 'inputCols'), cStrings(c, 'outputCols'), cFloat64(c, 'originalMin'), cFloat64(c, 'originalMax'), cNumber(c, 'min'), cNumber(c, 'max')));
