/**
 * Parquet source: one partition per row group of every file, planned from the files' footers
 * (row counts and min/max statistics for pruning). Files under `key=value/` directories get those
 * keys as columns (Hive partitioning), typed int32/int64/float64 when every value parses so, else utf8.
 */
import * as arrow from 'apache-arrow';
import { parquetMetadata } from '../../io/parquet.js';
import { INVALID, buildVector, parseText } from '../../io/text-values.js';
import { tableFromVectors } from '../../kernels/take.js';
import { arrowTypeOf, type ScalarTypeName } from '../../types/logical-type.js';
import { HIVE_NULL } from '../execution/write-layout.js';
import { emptyTable } from '../plan/narrow-ops.js';
import { expandPaths, hivePairs } from './file-paths.js';
import type { PartitionValues } from './read-spec.js';
import type { ColumnStats, ResolvedPartition, ResolvedSource } from './resolved-source.js';
import { unifySchemas } from './schema-merge.js';

function hiveType(values: readonly (string | null)[]): ScalarTypeName {
  const present = values.filter((v): v is string => v !== null);
  if (present.length === 0) return 'utf8';
  for (const t of ['int32', 'int64', 'float64'] as const) if (present.every((v) => parseText(t, v) !== INVALID)) return t;
  return 'utf8';
}

export async function resolveParquet(paths: string | readonly string[], mergeSchema: boolean): Promise<ResolvedSource> {
  const files = await expandPaths(paths, ['.parquet', '.parq']);
  const metas = await Promise.all(files.map((f) => parquetMetadata(f.path)));
  const hive = files.map((f) => hivePairs(f).map(([k, v]) => [k, v === HIVE_NULL ? null : decodeURIComponent(v)] as const));
  const hiveNames = [...new Set(hive.flatMap((h) => h.map(([k]) => k)))];
  const hiveTypes = hiveNames.map((n) => hiveType(hive.flatMap((h) => h.filter(([k]) => k === n).map(([, v]) => v))));
  const fileSchema = (i: number): arrow.Schema => {
    const own = metas[i]!.schema.fields.filter((f) => !hiveNames.includes(f.name));
    return new arrow.Schema([...own, ...hiveNames.map((n, j) => new arrow.Field(n, arrowTypeOf(hiveTypes[j]!), true))]);
  };
  const unified = unifySchemas(files.map((f, i) => ({ file: f.path, schema: fileSchema(i) })), mergeSchema);
  const partitions: ResolvedPartition[] = [];
  files.forEach((f, i) => {
    const meta = metas[i]!;
    const values = new Map(hive[i]!);
    const pv: PartitionValues | null = hiveNames.length === 0 ? null : { names: hiveNames, types: hiveTypes, values: hiveNames.map((n) => values.get(n) ?? null) };
    const partitionRow =
      pv === null
        ? undefined
        : tableFromVectors(
            hiveNames.map((n, j) => new arrow.Field(n, arrowTypeOf(hiveTypes[j]!), true)),
            hiveNames.map((_, j) => {
              const raw = pv.values[j];
              const v = raw === null || raw === undefined ? null : parseText(hiveTypes[j]!, raw);
              return buildVector(hiveTypes[j]!, [v === INVALID ? null : v]);
            }),
            1,
          );
    const groups = meta.rowGroups.length === 0 ? [null] : meta.rowGroups;
    const own = meta.schema.fields.map((field) => field.name).filter((n) => !hiveNames.includes(n));
    for (const rg of groups) {
      const stats = new Map<string, ColumnStats>();
      if (rg !== null) for (const c of rg.columns) stats.set(c.column, { min: c.min, max: c.max, nullCount: c.nullCount });
      partitions.push({
        spec: { type: 'parquet', path: f.path, rowGroups: rg === null ? null : [rg.index], columns: own, partitionValues: pv },
        rows: rg?.numRows ?? 0,
        stats,
        partitionRow,
      });
    }
  });
  return { schema: unified, partitions, template: emptyTable(unified), mergeSchema, estimatedRows: metas.reduce((s, m) => s + m.numRows, 0) };
}
