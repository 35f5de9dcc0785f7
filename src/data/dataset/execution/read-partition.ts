/**
 * Runs inside a read task: reads one partition (a range, a file, a Parquet row group, a PostgreSQL
 * range query), adds Hive partition columns, checks or conforms the result to the source's schema,
 * and projects the columns the plan needs.
 */
import * as arrow from 'apache-arrow';
import { SourceSchemaMismatchError } from '../../errors.js';
import { inferCsvSchema, readCsvPartition } from '../../io/csv-reader.js';
import { readJsonLines } from '../../io/json-lines.js';
import { readParquetFile } from '../../io/parquet.js';
import { connectPostgres } from '../../io/pg-connect.js';
import { readPostgresPartition } from '../../io/pg-reader.js';
import { buildVector, parseText, INVALID } from '../../io/text-values.js';
import { evaluate } from '../../expr/evaluate.js';
import { columnToVector } from '../../types/column.js';
import { tableFromVectors } from '../../kernels/take.js';
import { col } from '../../expr/expr.js';
import { arrowTypeOf, logicalTypeOf, isScalarTypeName, typeToString } from '../../types/logical-type.js';
import { emptyTable } from '../plan/narrow-ops.js';
import type { ReadSpec } from '../sources/read-spec.js';

function rangeTable(start: number, end: number, column: string): arrow.Table {
  const n = Math.max(0, end - start);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = start + i;
  // Built from the column form, which stays cached for the expressions evaluated over this partition.
  const v = columnToVector({ type: 'int64', length: n, values, valid: null });
  return tableFromVectors([new arrow.Field(column, new arrow.Int64(), false)], [v], n);
}

/** Reads a partition's data; Parquet decodes only `columns` (null: all) of the file's own columns. */
async function readRaw(spec: ReadSpec, columns: readonly string[] | null): Promise<arrow.Table> {
  switch (spec.type) {
    case 'range':
      return rangeTable(spec.start, spec.end, spec.column);
    case 'csv':
      return readCsvPartition(spec.path, { ...spec.settings, header: spec.settings.header ?? true, ...(Object.keys(spec.schema).length > 0 ? { schema: spec.schema } : {}) });
    case 'json':
      return readJsonLines(spec.path, { ...(Object.keys(spec.schema).length > 0 ? { schema: spec.schema } : {}), ...(spec.settings.mode ? { mode: spec.settings.mode } : {}), ...(spec.settings.gzip !== undefined ? { gzip: spec.settings.gzip } : {}) });
    case 'parquet': {
      const own = columns === null ? spec.columns : spec.columns.filter((c) => columns.includes(c));
      let t = await readParquetFile(spec.path, { columns: own, ...(spec.rowGroups === null ? {} : { rowGroups: spec.rowGroups }) });
      const pv = spec.partitionValues;
      if (pv !== null) {
        const fields = t.schema.fields.slice();
        const vectors = fields.map((_, i) => t.getChildAt(i) as arrow.Vector);
        pv.names.forEach((name, i) => {
          if (columns !== null && !columns.includes(name)) return;
          const raw = pv.values[i];
          const parsed = raw === null || raw === undefined ? null : parseText(pv.types[i]!, raw);
          const v = buildVector(pv.types[i]!, new Array<unknown>(t.numRows).fill(parsed === INVALID ? null : parsed));
          fields.push(new arrow.Field(name, v.type as arrow.DataType, true));
          vectors.push(v);
        });
        t = tableFromVectors(fields, vectors, t.numRows);
      }
      return t;
    }
    case 'postgres': {
      const client = await connectPostgres(spec.url);
      try {
        return await readPostgresPartition(client, spec.sql, { fetchSize: spec.fetchSize, ...(spec.snapshot !== null ? { snapshot: spec.snapshot } : {}) });
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }
}

function fileOf(spec: ReadSpec): string {
  return spec.type === 'postgres' ? spec.sql : spec.type === 'range' ? 'range' : spec.path;
}

/**
 * Makes `table` have exactly the template's columns, in its order and types. Missing columns become
 * nulls and differing scalar types are cast when `merge` is set; otherwise any difference is a
 * SourceSchemaMismatchError naming the file and column.
 */
export function conformToTemplate(table: arrow.Table, template: arrow.Schema, merge: boolean, file: string): arrow.Table {
  const have = new Map(table.schema.fields.map((f) => [f.name, f]));
  if (!merge) {
    for (const f of table.schema.fields) {
      if (!template.fields.some((t) => t.name === f.name)) throw new SourceSchemaMismatchError(file, f.name, 'the column is not in the schema of the other files');
    }
  }
  let same = table.schema.fields.length === template.fields.length;
  const fields: arrow.Field[] = [];
  const vectors: arrow.Vector[] = [];
  template.fields.forEach((tf, i) => {
    const f = have.get(tf.name);
    const tType = logicalTypeOf(tf.type, tf.name);
    if (f === undefined) {
      if (!merge) throw new SourceSchemaMismatchError(file, tf.name, 'the file has no such column');
      same = false;
      fields.push(tf.clone({ nullable: true }));
      vectors.push(arrow.vectorFromArray(new Array(table.numRows).fill(null), tf.type) as arrow.Vector);
      return;
    }
    const fType = logicalTypeOf(f.type, f.name);
    if (typeToString(fType) !== typeToString(tType)) {
      if (!merge || !isScalarTypeName(tType)) throw new SourceSchemaMismatchError(file, tf.name, `type is ${typeToString(fType)} here but ${typeToString(tType)} in the other files`);
      same = false;
      const v = evaluate(col(tf.name).cast(tType), table);
      fields.push(new arrow.Field(tf.name, v.type as arrow.DataType, true));
      vectors.push(v);
      return;
    }
    if (table.schema.fields[i]?.name !== tf.name) same = false;
    fields.push(f);
    vectors.push(table.getChild(tf.name) as arrow.Vector);
  });
  return same ? table : tableFromVectors(fields, vectors, table.numRows);
}

/**
 * Reads one partition; keeps `columns` when given (Parquet reads no others) and conforms the result to
 * `template` (the source's schema, restricted to those columns).
 */
export async function readPartition(spec: ReadSpec, template: arrow.Table | null, mergeSchema: boolean, columns: readonly string[] | null): Promise<arrow.Table> {
  let t = await readRaw(spec, columns);
  if (columns !== null) {
    const have = new Set(t.schema.fields.map((f) => f.name));
    t = t.select(columns.filter((c) => have.has(c)));
  }
  if (template !== null) {
    const schema = columns === null ? template.schema : new arrow.Schema(columns.map((c) => template.schema.fields.find((f) => f.name === c)).filter((f): f is arrow.Field => f !== undefined));
    t = conformToTemplate(t, schema, mergeSchema, fileOf(spec));
  }
  if (columns !== null) t = t.select([...columns]);
  return t;
}

/** A partition's own schema as a zero-row table (a CSV file is only scanned for its types, not parsed into columns). */
export async function inferPartitionSchema(spec: ReadSpec): Promise<arrow.Table> {
  if (spec.type === 'csv') {
    const { names, types } = await inferCsvSchema(spec.path, { ...spec.settings, header: spec.settings.header ?? true });
    return emptyTable(new arrow.Schema(names.map((n, i) => new arrow.Field(n, arrowTypeOf(types[i]!), true))));
  }
  return (await readPartition(spec, null, false, null)).slice(0, 0);
}
