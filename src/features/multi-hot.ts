/**
 * MultiHotEncoder: a set-valued column — a List<Utf8> or a string holding a JSON array, like Airbnb's
 * amenities — to a multi-hot List<Float32> over the `maxItems` most frequent items seen at fit (ties:
 * ascending item). Policy: items unseen at fit are ignored; null, unparsable JSON and non-array JSON
 * count as the empty set (all zeros). Fit turns each row into its set of items (a list column),
 * explodes it and counts rows per item with a distributed groupBy.
 */
import * as arrow from 'apache-arrow';
import { agg, type Dataset } from '../data/index.js';
import { float32ListVector, kindOf, plain, setColumns, vectorOf } from './columns.js';
import { cString, cStrings } from './config.js';
import { mapWithPayload } from './distributed.js';
import { FeatureModel, registerFeatureModel, type Featurizer, type StageConfig } from './featurizer.js';
import { checkColumns, requireRows } from './fit-stats.js';
import { columnList, nonNegative, positiveInt } from './options.js';

/** The distinct items of one cell (see the policy above). */
export function itemsOf(v: unknown, isList: boolean): string[] {
  if (v === null || v === undefined) return [];
  let arr: unknown = isList ? plain(v) : v;
  if (!isList) {
    try {
      arr = JSON.parse(String(v));
    } catch {
      return [];
    }
  }
  if (!Array.isArray(arr)) return [];
  return [...new Set(arr.filter((x) => x !== null && x !== undefined).map((x) => String(x).trim()))].filter((x) => x.length > 0);
}

/** The distinct items of every row, as a List<Utf8> column `item` (one row per input row). */
export function itemSetsPartition(table: arrow.Table, column: string): arrow.Table {
  const vec = vectorOf(table, column);
  const isList = kindOf(vec.type) === 'list';
  const sets: string[][] = [];
  for (const v of vec) sets.push(itemsOf(v, isList));
  return new arrow.Table({ item: arrow.vectorFromArray(sets, new arrow.List(new arrow.Field('element', new arrow.Utf8(), true))) });
}

export interface MultiHotEncoderOptions {
  readonly inputCol: string;
  /** @default `${inputCol}_multihot` */
  readonly outputCol?: string;
  /** Vocabulary size (most frequent items). @default 64 */
  readonly maxItems?: number;
  /** Items in fewer rows are left out. @default 1 */
  readonly minCount?: number;
}

export class MultiHotEncoder implements Featurizer<MultiHotEncoderModel> {
  static readonly className = 'MultiHotEncoder';
  readonly className = MultiHotEncoder.className;
  readonly inputCol: string;
  readonly maxItems: number;
  readonly minCount: number;
  constructor(private readonly options: MultiHotEncoderOptions) {
    this.inputCol = columnList(this.className, 'inputCol', options.inputCol)[0]!;
    this.maxItems = positiveInt(this.className, 'maxItems', options.maxItems, 64);
    this.minCount = nonNegative(this.className, 'minCount', options.minCount, 1);
  }
  async fit(dataset: Dataset): Promise<MultiHotEncoderModel> {
    await checkColumns(dataset, [this.inputCol], this.className, ['string', 'list']);
    const t = await mapWithPayload(dataset.select(this.inputCol), { kind: 'itemSets', column: this.inputCol }).explode('item').groupBy('item').agg(agg.count(undefined, 'n')).collect();
    const items = [...t.getChild('item')!] as string[];
    const ns = Array.from(t.getChild('n')!, Number);
    const order = items.map((_, i) => i).filter((i) => ns[i]! >= this.minCount).sort((a, b) => ns[b]! - ns[a]! || (items[a]! < items[b]! ? -1 : 1));
    requireRows(order.length, this.className, this.inputCol);
    return new MultiHotEncoderModel(this.inputCol, this.options.outputCol ?? `${this.inputCol}_multihot`, order.slice(0, this.maxItems).map((i) => items[i]!));
  }
}

export class MultiHotEncoderModel extends FeatureModel {
  readonly className = 'MultiHotEncoderModel';
  private readonly index: Map<string, number>;
  constructor(
    readonly inputCol: string,
    readonly outputCol: string,
    readonly items: readonly string[],
  ) {
    super();
    this.index = new Map(items.map((x, i) => [x, i]));
  }
  transformTable(table: arrow.Table): arrow.Table {
    const vec = vectorOf(table, this.inputCol);
    const isList = kindOf(vec.type) === 'list';
    const w = this.items.length;
    const out = new Float32Array(vec.length * w);
    let r = 0;
    for (const v of vec) {
      for (const item of itemsOf(v, isList)) {
        const j = this.index.get(item);
        if (j !== undefined) out[r * w + j] = 1;
      }
      r++;
    }
    return setColumns(table, [[this.outputCol, float32ListVector(out, w, vec.length)]]);
  }
  getConfig(): StageConfig {
    return { inputCol: this.inputCol, outputCol: this.outputCol, items: this.items };
  }
}
registerFeatureModel('MultiHotEncoderModel', (c) => new MultiHotEncoderModel(cString(c, 'inputCol'), cString(c, 'outputCol'), cStrings(c, 'items')));
