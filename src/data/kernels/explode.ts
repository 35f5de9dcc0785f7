/**
 * explode: one output row per element of a list column (Spark semantics). `explode` drops rows whose
 * list is null or empty; `explodeOuter` keeps them, with a null element. The other columns repeat the
 * row's values; the exploded column takes the list's element type and keeps its name.
 */
import * as arrow from 'apache-arrow';
import { invalidOption } from '../errors.js';
import { requireColumn } from './table-util.js';
import { takeVector, tableFromVectors } from './take.js';

export function explodeTable(table: arrow.Table, column: string, outer: boolean): arrow.Table {
  const vec = requireColumn(table, column);
  const type = vec.type as arrow.DataType;
  if (type.typeId !== arrow.Type.List) {
    throw invalidOption(`${outer ? 'explodeOuter' : 'explode'}("${column}")`, `needs a list column; "${column}" is ${String(type)}`);
  }
  const element = (type as arrow.List).children[0]!;
  const parents: number[] = [];
  const items: number[] = [];
  const childData: arrow.Data[] = [];
  let row = 0;
  let childStart = 0;
  for (const d of vec.data as arrow.Data<arrow.List>[]) {
    const offsets = d.valueOffsets;
    const bitmap = d.nullCount > 0 ? d.nullBitmap : undefined;
    // apache-arrow slices valueOffsets with the data (index r) but not the validity bitmap (offset + r).
    for (let r = 0; r < d.length; r++, row++) {
      const j = d.offset + r;
      const isNull = bitmap !== undefined && bitmap.length > 0 && ((bitmap[j >> 3]! >> (j & 7)) & 1) === 0;
      const lo = offsets[r]!;
      const hi = isNull ? lo : offsets[r + 1]!;
      for (let k = lo; k < hi; k++) {
        parents.push(row);
        items.push(childStart + k);
      }
      if (outer && hi === lo) {
        parents.push(row);
        items.push(-1);
      }
    }
    const child = d.children[0]!;
    childData.push(child);
    childStart += child.length;
  }
  const parentIdx = Int32Array.from(parents);
  const values = childData.length > 0 ? new arrow.Vector(childData) : arrow.vectorFromArray([], element.type);
  const fields = table.schema.fields.map((f) => (f.name === column ? new arrow.Field(column, element.type, true, f.metadata) : f));
  const vectors = table.schema.fields.map((f, i) => (f.name === column ? takeVector(values, Int32Array.from(items)) : takeVector(table.getChildAt(i) as arrow.Vector, parentIdx)));
  return tableFromVectors(fields, vectors, parentIdx.length);
}
