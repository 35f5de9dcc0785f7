import type * as arrow from 'apache-arrow';
import { compareNumbers, compareStrings, compareValues } from '../types/compare.js';
import { type Column, columnFromVector } from '../types/column.js';
import { isListType } from '../types/logical-type.js';
import { requireColumn } from './table-util.js';
import { takeTable } from './take.js';

export interface SortKey {
  readonly column: string;
  /** @default true */
  readonly ascending?: boolean;
  /** @default ascending (Spark: nulls first when ascending, last when descending) */
  readonly nullsFirst?: boolean;
}

export function comparatorFor(col: Column, ascending: boolean, nullsFirst: boolean): (a: number, b: number) => number {
  const dir = ascending ? 1 : -1;
  const nullDir = nullsFirst ? -1 : 1;
  const valid = col.valid;
  const t = col.type;
  const values = col.values;
  const exact = col.exact;
  const cmpValue: (a: number, b: number) => number =
    exact !== undefined
      ? (a, b) => (exact[a]! < exact[b]! ? -1 : exact[a]! > exact[b]! ? 1 : 0)
      : t === 'utf8'
      ? (a, b) => compareStrings((values as string[])[a]!, (values as string[])[b]!)
      : isListType(t) || t === 'null'
        ? (a, b) => compareValues((values as unknown[])[a], (values as unknown[])[b])
        : (a, b) => compareNumbers((values as Float64Array)[a]!, (values as Float64Array)[b]!);
  if (valid === null) return (a, b) => dir * cmpValue(a, b);
  return (a, b) => {
    const va = valid[a] === 1;
    const vb = valid[b] === 1;
    if (!va || !vb) return va === vb ? 0 : va ? -nullDir : nullDir;
    return dir * cmpValue(a, b);
  };
}

/** Row indices in sorted order (stable: ties keep input order). */
export function sortIndices(table: arrow.Table, keys: readonly SortKey[]): Int32Array {
  const comparators = keys.map((k) => {
    const ascending = k.ascending ?? true;
    return comparatorFor(columnFromVector(requireColumn(table, k.column), k.column), ascending, k.nullsFirst ?? ascending);
  });
  const idx = Array.from({ length: table.numRows }, (_, i) => i);
  if (comparators.length === 1) idx.sort(comparators[0]);
  else
    idx.sort((a, b) => {
      for (const c of comparators) {
        const r = c(a, b);
        if (r !== 0) return r;
      }
      return 0;
    });
  return Int32Array.from(idx);
}

/**
 * Sorts by the keys in order. Strings order by code point, NaN sorts above all numbers, and nulls go
 * first for ascending keys and last for descending ones unless `nullsFirst` says otherwise.
 */
export function sortTable(table: arrow.Table, keys: readonly SortKey[]): arrow.Table {
  if (keys.length === 0) return table;
  return takeTable(table, sortIndices(table, keys));
}
