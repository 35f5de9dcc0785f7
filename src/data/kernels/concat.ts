import * as arrow from 'apache-arrow';
import { SchemaMismatchError } from '../errors.js';

/**
 * Concatenates tables with the same schema (same column names, order and types; nullability may
 * differ). Zero copy: the result holds the inputs' record batches. Throws SchemaMismatchError naming
 * the first column that differs.
 */
export function concatTables(tables: readonly arrow.Table[]): arrow.Table {
  if (tables.length === 0) return new arrow.Table();
  const first = tables[0]!;
  const fields = first.schema.fields.map((f) => f.clone());
  tables.forEach((t, ti) => {
    const fs = t.schema.fields;
    const n = Math.max(fs.length, fields.length);
    for (let i = 0; i < n; i++) {
      const a = fields[i];
      const b = fs[i];
      if (a === undefined || b === undefined || a.name !== b.name) {
        const name = (a ?? b)!.name;
        throw new SchemaMismatchError(`cannot concat: table ${ti} has column ${b === undefined ? 'missing' : `"${b.name}"`} at position ${i} where table 0 has ${a === undefined ? 'none' : `"${a.name}"`}`, name);
      }
      if (!arrow.util.compareTypes(a.type, b.type) || String(a.type) !== String(b.type)) {
        throw new SchemaMismatchError(`cannot concat: column "${a.name}" is ${String(a.type)} in table 0 but ${String(b.type)} in table ${ti}`, a.name);
      }
      if (b.nullable && !a.nullable) fields[i] = a.clone({ nullable: true });
    }
  });
  const schema = new arrow.Schema(fields, first.schema.metadata);
  const batches = tables.flatMap((t) => t.batches.map((b) => new arrow.RecordBatch(schema, b.data)));
  return batches.length === 0 ? new arrow.Table(schema) : new arrow.Table(schema, batches);
}
