/**
 * Imputer: replaces null and NaN by the column's mean, approximate median (quantile sketch, rank error
 * ≤ relativeError·N) or mode (most frequent value; ties → the smallest). Fit fails with
 * EmptyDatasetError when a column has no non-null values.
 */
import type * as arrow from 'apache-arrow';
import { agg, col, type Dataset } from '../data/index.js';
import { float64Vector, readNumbers, setColumns, vectorOf } from './columns.js';
import { cFloat64, cOneOf, cStrings } from './config.js';
import { FeatureModel, registerFeatureModel, type Featurizer, type StageConfig } from './featurizer.js';
import { aggregateRow, checkColumns, num, quantileSummaries, requireRows } from './fit-stats.js';
import { columnList, oneOf, outputList } from './options.js';
import { sketchK } from './quantile-sketch.js';

export type ImputerStrategy = 'mean' | 'median' | 'mode';

export interface ImputerOptions {
  readonly inputCols: string | readonly string[];
  /** @default the input names (replaced in place) */
  readonly outputCols?: string | readonly string[];
  /** @default 'mean' */
  readonly strategy?: ImputerStrategy;
  /** Rank error bound of 'median'. @default 0.001 */
  readonly relativeError?: number;
}

export class Imputer implements Featurizer<ImputerModel> {
  static readonly className = 'Imputer';
  readonly className = Imputer.className;
  readonly inputCols: string[];
  readonly outputCols: string[];
  readonly strategy: ImputerStrategy;
  constructor(private readonly options: ImputerOptions) {
    this.inputCols = columnList(this.className, 'inputCols', options.inputCols);
    this.outputCols = outputList(this.className, this.inputCols, options.outputCols, '');
    this.strategy = oneOf(this.className, 'strategy', options.strategy, ['mean', 'median', 'mode'] as const, 'mean');
  }
  async fit(dataset: Dataset): Promise<ImputerModel> {
    await checkColumns(dataset, this.inputCols, this.className, ['numeric', 'bool']);
    const row = await aggregateRow(dataset, this.inputCols.flatMap((c, i) => [agg.mean(c, `m${i}`), agg.count(c, `n${i}`)]));
    this.inputCols.forEach((c, i) => requireRows(row[`n${i}`], this.className, c));
    let surrogates: Float64Array;
    if (this.strategy === 'mean') surrogates = Float64Array.from(this.inputCols, (_, i) => num(row[`m${i}`]));
    else if (this.strategy === 'median') {
      const sums = await quantileSummaries(dataset, this.inputCols, sketchK(this.options.relativeError ?? 0.001));
      surrogates = Float64Array.from(this.inputCols, (c) => sums.get(c)!.quantile(0.5));
    } else {
      surrogates = new Float64Array(this.inputCols.length);
      for (const [i, c] of this.inputCols.entries()) {
        const counts = await dataset.filter(col(c).isNotNull()).groupBy(c).count().collect();
        let best = NaN;
        let bestCount = -1;
        const vs = counts.getChild(c)!;
        const ns = counts.getChild('count')!;
        for (let r = 0; r < counts.numRows; r++) {
          const v = num(vs.get(r));
          const n = num(ns.get(r));
          if (Number.isNaN(v)) continue;
          if (n > bestCount || (n === bestCount && v < best)) (best = v, bestCount = n);
        }
        surrogates[i] = best;
      }
    }
    return new ImputerModel(this.inputCols, this.outputCols, this.strategy, surrogates);
  }
}

export class ImputerModel extends FeatureModel {
  readonly className = 'ImputerModel';
  constructor(
    readonly inputCols: readonly string[],
    readonly outputCols: readonly string[],
    readonly strategy: ImputerStrategy,
    readonly surrogates: Float64Array,
  ) {
    super();
  }
  transformTable(table: arrow.Table): arrow.Table {
    return setColumns(
      table,
      this.inputCols.map((c, j) => {
        const { values } = readNumbers(vectorOf(table, c));
        for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) values[i] = this.surrogates[j]!;
        return [this.outputCols[j]!, float64Vector(values)] as const;
      }),
    );
  }
  getConfig(): StageConfig {
    return { inputCols: this.inputCols, outputCols: this.outputCols, strategy: this.strategy, surrogates: this.surrogates };
  }
}
registerFeatureModel('ImputerModel', (c) => new ImputerModel(cStrings(c, 'inputCols'), cStrings(c, 'outputCols'), cOneOf(c, 'strategy', ['mean', 'median', 'mode'] as const), cFloat64(c, 'surrogates')));
