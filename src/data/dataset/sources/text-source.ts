/**
 * CSV and JSON-lines sources: one partition per file. Without a user schema each file's schema is
 * inferred by a task (the file is read once for that), the files' schemas are checked against each
 * other (or unified with `mergeSchema`), and every read then parses with the unified types.
 */
import type * as arrow from 'apache-arrow';
import { get } from '../../../core/index.js';
import { resolveTextSchema } from '../../io/csv-reader.js';
import { arrowTypeOf, isScalarTypeName, logicalTypeOf, type ScalarTypeName } from '../../types/logical-type.js';
import * as arrowNs from 'apache-arrow';
import { inferSchemaTask } from '../execution/partition-tasks.js';
import { emptyTable } from '../plan/narrow-ops.js';
import { expandPaths } from './file-paths.js';
import type { ReadSpec, TextReadSettings } from './read-spec.js';
import type { ResolvedSource } from './resolved-source.js';
import type { ReadCsvOptions, ReadJsonOptions } from './source-options.js';
import { unifySchemas } from './schema-merge.js';

const CSV_EXT = ['.csv', '.csv.gz', '.tsv', '.txt'];
const JSON_EXT = ['.json', '.jsonl', '.ndjson', '.json.gz', '.jsonl.gz', '.ndjson.gz'];

function recordOf(schema: arrow.Schema): Record<string, ScalarTypeName> {
  const out: Record<string, ScalarTypeName> = {};
  for (const f of schema.fields) {
    const t = logicalTypeOf(f.type, f.name);
    out[f.name] = isScalarTypeName(t) ? t : 'utf8';
  }
  return out;
}

export async function resolveText(type: 'csv' | 'json', paths: string | readonly string[], options: ReadCsvOptions & ReadJsonOptions): Promise<ResolvedSource> {
  const files = await expandPaths(paths, type === 'csv' ? CSV_EXT : JSON_EXT);
  const settings: TextReadSettings = {
    ...(options.header !== undefined ? { header: options.header } : {}),
    ...(options.delimiter !== undefined ? { delimiter: options.delimiter } : {}),
    ...(options.quote !== undefined ? { quote: options.quote } : {}),
    ...(options.mode !== undefined ? { mode: options.mode } : {}),
    ...(options.gzip !== undefined ? { gzip: options.gzip } : {}),
    ...(options.maxFieldBytes !== undefined ? { maxFieldBytes: options.maxFieldBytes } : {}),
  };
  const merge = options.mergeSchema ?? false;
  const make = (path: string, schema: Record<string, ScalarTypeName>): ReadSpec => ({ type, path, schema, settings });
  if (options.schema !== undefined) {
    const { names, types } = resolveTextSchema(options.schema);
    const rec: Record<string, ScalarTypeName> = {};
    names.forEach((n, i) => (rec[n] = types[i]!));
    const schema = new arrowNs.Schema(names.map((n, i) => new arrowNs.Field(n, arrowTypeOf(types[i]!), true)));
    return { schema, partitions: files.map((f) => ({ spec: make(f.path, rec) })), template: emptyTable(schema), mergeSchema: merge, estimatedRows: undefined };
  }
  // Infer each file's own schema (utf8 for everything first would lose types); tasks run in parallel.
  const probes = files.map((f) => inferSchemaTask.remote({ type, path: f.path, schema: {}, settings } as ReadSpec));
  const inferred = await get(probes);
  const perFile = files.map((f, i) => ({ file: f.path, schema: inferred[i]!.schema }));
  const unified = unifySchemas(perFile, merge);
  const unifiedTypes = recordOf(unified);
  const partitions = perFile.map(({ file, schema }) => {
    const own: Record<string, ScalarTypeName> = {};
    for (const f of schema.fields) own[f.name] = unifiedTypes[f.name] ?? 'utf8';
    return { spec: make(file, own) };
  });
  return { schema: unified, partitions, template: emptyTable(unified), mergeSchema: merge, estimatedRows: undefined };
}
