/**
 * A feature view's rows as a Dataset: the source read (PostgreSQL, Parquet or a given Dataset), its
 * fitted pipeline applied on the cluster, then projected to join keys, event time and the declared
 * features cast to their declared types. A source column whose type cannot be the declared one fails
 * here, naming the view and the column, before anything is joined or written.
 */
import { col, logicalTypeOf, readParquet, readPostgres, type Dataset } from '../../data/index.js';
import { ColumnTypeError } from '../errors.js';
import { PipelineModel } from '../pipeline.js';
import type { FeatureView } from './definitions.js';
import { FeatureSourceError } from './errors.js';

const loaded = new Map<string, Promise<PipelineModel>>();

async function pipelineOf(view: FeatureView): Promise<PipelineModel | null> {
  if (view.pipeline !== null) return view.pipeline;
  if (view.pipelinePath === null) return null;
  let p = loaded.get(view.pipelinePath);
  if (p === undefined) loaded.set(view.pipelinePath, (p = PipelineModel.load(view.pipelinePath)));
  return p;
}

/** The source read and transformed, with every column it has. */
export async function rawViewDataset(view: FeatureView): Promise<Dataset> {
  const s = view.source;
  let ds: Dataset;
  if (s.kind === 'onlineOnly') throw new FeatureSourceError(view.name, `served online only here: ${s.why}`);
  if (s.kind === 'dataset') ds = s.dataset;
  else if (s.kind === 'parquet') ds = readParquet(s.paths);
  else {
    ds = readPostgres({
      url: s.url, ...(s.table !== undefined ? { table: s.table } : { query: s.query! }),
      ...(s.partitionColumn !== undefined ? { partitionColumn: s.partitionColumn } : {}), numPartitions: s.numPartitions ?? 1,
    });
  }
  const p = await pipelineOf(view);
  return p === null ? ds : p.transform(ds);
}

const NUMERIC = ['int32', 'int64', 'float64'];

/** Join keys (cast to the entity key type), the event time, the created time if any, and the declared features (cast). */
export async function viewDataset(view: FeatureView, features = view.features): Promise<Dataset> {
  const ds = await rawViewDataset(view);
  const schema = await ds.schema();
  const typeOf = (c: string): string => {
    const f = schema.fields.find((x) => x.name === c);
    if (f === undefined) throw new ColumnTypeError(`feature view "${view.name}": its source has no column "${c}" (columns: ${schema.fields.map((x) => x.name).join(', ')})`, { column: c, expected: 'a column', actual: 'none' });
    const t = logicalTypeOf(f.type, c);
    return typeof t === 'object' ? 'list' : t;
  };
  const keyCols = view.entities.flatMap((e) =>
    e.joinKeys.map((k) => {
      const t = typeOf(k);
      const ok = e.keyType === 'int64' ? NUMERIC.includes(t) : t === 'utf8';
      if (!ok) throw new ColumnTypeError(`feature view "${view.name}": join key of entity "${e.name}" has the wrong type in the source`, { column: k, expected: e.keyType, actual: t });
      // int64 keys are left as they are (a cast would carry them through float64, inexact past 2^53);
      // string keys are cast so dictionary-encoded and plain ones meet in one join.
      return t === 'int64' && e.keyType === 'int64' ? col(k) : col(k).cast(e.keyType).alias(k);
    }),
  );
  const tsType = typeOf(view.timestampField);
  if (!['timestamp', 'date', 'int64', 'float64', 'int32', 'utf8'].includes(tsType)) throw new ColumnTypeError(`feature view "${view.name}": the event-time column has a type that is not a time`, { column: view.timestampField, expected: 'timestamp, date or epoch ms', actual: tsType });
  const featureCols = features.map((f) => {
    const t = typeOf(f.name);
    const ok = f.type === t || (NUMERIC.includes(f.type) && NUMERIC.includes(t)) || (f.type === 'bool' && t === 'bool');
    if (!ok) throw new ColumnTypeError(`feature view "${view.name}": feature "${f.name}" is declared ${f.type} but the source column cannot be cast to it`, { column: f.name, expected: f.type, actual: t });
    return f.type === t ? col(f.name) : col(f.name).cast(f.type).alias(f.name);
  });
  const created = view.createdTimestampField;
  if (created !== null && !['timestamp', 'date', 'int64', 'float64', 'int32'].includes(typeOf(created))) throw new ColumnTypeError(`feature view "${view.name}": the created-time column has a type that is not a time`, { column: created, expected: 'timestamp, date or epoch ms', actual: typeOf(created) });
  return ds.select(...keyCols, col(view.timestampField), ...(created !== null ? [col(created)] : []), ...featureCols);
}
