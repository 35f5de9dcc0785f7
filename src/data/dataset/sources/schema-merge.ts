/** Checking that files share a schema, or unifying their schemas (`mergeSchema`). */
import * as arrow from 'apache-arrow';
import { SourceSchemaMismatchError } from '../../errors.js';
import { commonType } from '../../expr/output-type.js';
import { arrowTypeOf, logicalTypeOf, typeToString, type LogicalType } from '../../types/logical-type.js';

/** The schema all `schemas` (one per file) conform to. Throws naming the first differing file and column unless `merge`. */
export function unifySchemas(schemas: readonly { file: string; schema: arrow.Schema }[], merge: boolean): arrow.Schema {
  const first = schemas[0]!;
  const order: string[] = [];
  const types = new Map<string, LogicalType>();
  const arrowTypes = new Map<string, arrow.DataType>();
  for (const { file, schema } of schemas) {
    for (const f of schema.fields) {
      const t = logicalTypeOf(f.type, f.name);
      const prev = types.get(f.name);
      if (prev === undefined) {
        if (!merge && file !== first.file) throw new SourceSchemaMismatchError(file, f.name, `the column is not in ${first.file}`);
        order.push(f.name);
        types.set(f.name, t);
        arrowTypes.set(f.name, f.type);
        continue;
      }
      if (typeToString(prev) === typeToString(t)) continue;
      const c = merge ? commonType(prev, t) : undefined;
      if (c === undefined) throw new SourceSchemaMismatchError(file, f.name, `type is ${typeToString(t)} here but ${typeToString(prev)} in ${first.file}`);
      types.set(f.name, c);
      arrowTypes.set(f.name, arrowTypeOf(c));
    }
    if (!merge) {
      for (const f of first.schema.fields) {
        if (!schema.fields.some((g) => g.name === f.name)) throw new SourceSchemaMismatchError(file, f.name, `the file has no such column (${first.file} has)`);
      }
    }
  }
  return new arrow.Schema(order.map((n) => new arrow.Field(n, arrowTypes.get(n)!, true)));
}
