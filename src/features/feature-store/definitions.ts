/**
 * Feature store definitions, Feast's vocabulary: an entity names the join keys of a thing (a user, a
 * listing); a feature view exposes typed features of entities read from a source with an event-time
 * column, a TTL and an allowed lateness; an on-demand feature view computes features at request time
 * from request data plus stored features through a fitted Pipeline (the same kernels at training and
 * serving time: `transform` on the cluster, `transformRow` in the serving process).
 *
 * A definition holds runtime objects (a Dataset source, a fitted PipelineModel); `specOf()` is its
 * JSON form, which the registry versions.
 */
import { optionRules } from '../../core/index.js';
import type { Dataset } from '../../data/index.js';
import { PipelineModel } from '../pipeline.js';

/** Types a feature may have (the data layer's scalar types). */
export type FeatureType = 'int32' | 'int64' | 'float64' | 'utf8' | 'bool';
export const FEATURE_TYPES: readonly FeatureType[] = ['int32', 'int64', 'float64', 'utf8', 'bool'];
/** Types of an entity's join keys: integers (carried as numbers) or strings. */
export type EntityKeyType = 'int64' | 'utf8';

export interface EntityOptions {
  readonly name: string;
  /** Join key column(s) (the same name on the entity rows and on the view's source). @default [name] */
  readonly joinKeys?: string | readonly string[];
  /** @default 'int64' */
  readonly keyType?: EntityKeyType;
  readonly description?: string;
}

export interface Entity {
  readonly kind: 'entity';
  readonly name: string;
  readonly joinKeys: readonly string[];
  readonly keyType: EntityKeyType;
  readonly description: string;
}

/** Where a feature view's rows come from. */
export type FeatureViewSource =
  | { readonly kind: 'postgres'; readonly url: string; readonly table?: string; readonly query?: string; readonly partitionColumn?: string; readonly numPartitions?: number }
  | { readonly kind: 'parquet'; readonly paths: string | readonly string[] }
  | { readonly kind: 'dataset'; readonly dataset: Dataset; readonly name?: string };

/**
 * The source of a view rebuilt for serving only (`FeatureStore.forServing`): its values are read
 * from the online store, but its source (an in-memory Dataset, a pipeline held in memory) lives only
 * in the process that defined it, so training sets and materialization fail with `why`.
 */
export interface OnlineOnlySource {
  readonly kind: 'onlineOnly';
  readonly why: string;
  /** The source as the registry records it. */
  readonly registered: { readonly kind: string; readonly [k: string]: unknown };
}

export interface FeatureViewOptions {
  readonly name: string;
  readonly entities: readonly Entity[];
  readonly source: FeatureViewSource;
  /** The event-time column of the source (timestamp, date or epoch milliseconds). */
  readonly timestampField: string;
  /**
   * A column of when each row was written (timestamp or epoch ms): among rows of one entity with the
   * same event time, the one created last wins (a correction), in training sets and online. Without
   * it, or at equal created times, the row later in the source's partition order wins. @default none
   */
  readonly createdTimestampField?: string;
  /** Features and their types. A fitted `pipeline` may produce them from the source's columns. */
  readonly features: Readonly<Record<string, FeatureType>>;
  /** Values older than this (relative to the row's or the request's time) are null. @default no limit */
  readonly ttlMs?: number;
  /**
   * `materializeIncremental()` re-reads source rows with event times from (high-water mark − this)
   * on, so rows that arrive up to this late are still picked up; later ones only by a full `materialize()`. @default 0
   */
  readonly allowedLatenessMs?: number;
  /** A fitted pipeline applied to the source (cluster-side `transform`); a saved directory is loaded. */
  readonly pipeline?: PipelineModel | string;
  readonly description?: string;
}

export interface FeatureSpec {
  readonly name: string;
  readonly type: FeatureType;
}

export interface FeatureView {
  readonly kind: 'featureView';
  readonly name: string;
  readonly entities: readonly Entity[];
  /** The join keys of all its entities, in order. */
  readonly joinKeys: readonly string[];
  readonly source: FeatureViewSource | OnlineOnlySource;
  readonly timestampField: string;
  /** Breaks ties of equal event times (see FeatureViewOptions.createdTimestampField). */
  readonly createdTimestampField: string | null;
  readonly features: readonly FeatureSpec[];
  readonly ttlMs: number | null;
  readonly allowedLatenessMs: number;
  readonly pipeline: PipelineModel | null;
  readonly pipelinePath: string | null;
  readonly description: string;
}

export interface OnDemandFeatureViewOptions {
  readonly name: string;
  /** Stored features it reads, as `view:feature` references. */
  readonly sources: readonly string[];
  /** Request data fields it reads (given with each request / on each entity row) and their types. @default {} */
  readonly request?: Readonly<Record<string, FeatureType>>;
  /** The fitted pipeline that computes its features from request data and the stored features. */
  readonly pipeline: PipelineModel;
  /** Its output features (columns the pipeline adds) and their types. */
  readonly features: Readonly<Record<string, FeatureType>>;
  readonly description?: string;
}

export interface OnDemandFeatureView {
  readonly kind: 'onDemandFeatureView';
  readonly name: string;
  readonly sources: readonly string[];
  readonly request: readonly FeatureSpec[];
  readonly pipeline: PipelineModel;
  readonly features: readonly FeatureSpec[];
  readonly description: string;
}

export type Definition = Entity | FeatureView | OnDemandFeatureView;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function featureSpecs(rules: ReturnType<typeof optionRules>, option: string, record: unknown, allowEmpty = false): FeatureSpec[] {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) rules.fail(option, 'must be an object of feature name → type', record);
  const out = Object.entries(record as Record<string, unknown>).map(([name, type]) => {
    if (!NAME.test(name)) rules.fail(`${option}.${name}`, 'must be a name of letters, digits and _');
    return { name, type: rules.oneOf(`${option}.${name}`, type, FEATURE_TYPES, 'float64') };
  });
  if (out.length === 0 && !allowEmpty) rules.fail(option, 'must name at least one feature');
  return out;
}

function checkName(rules: ReturnType<typeof optionRules>, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) rules.fail('name', 'must be a name of letters, digits and _ (it is part of online store keys)', name);
  return name as string;
}

/** An entity: the join keys identifying one thing features describe. */
export function defineEntity(options: EntityOptions): Entity {
  const rules = optionRules('defineEntity');
  rules.knownKeys(rules.object(options), ['name', 'joinKeys', 'keyType', 'description']);
  const name = checkName(rules, options.name);
  const joinKeys = options.joinKeys === undefined ? [name] : rules.columns('joinKeys', options.joinKeys, { single: true });
  const keyType = rules.oneOf('keyType', options.keyType, ['int64', 'utf8'] as const, 'int64');
  return { kind: 'entity', name, joinKeys, keyType, description: options.description ?? '' };
}

/** A feature view: typed features of entities, read point-in-time from a source. */
export function defineFeatureView(options: FeatureViewOptions): FeatureView {
  const rules = optionRules('defineFeatureView');
  rules.knownKeys(rules.object(options), ['name', 'entities', 'source', 'timestampField', 'createdTimestampField', 'features', 'ttlMs', 'allowedLatenessMs', 'pipeline', 'description']);
  const name = checkName(rules, options.name);
  if (!Array.isArray(options.entities) || options.entities.length === 0 || options.entities.some((e) => e?.kind !== 'entity')) rules.fail('entities', 'must be a non-empty list of entities made by defineEntity()');
  const joinKeys = options.entities.flatMap((e) => e.joinKeys);
  const source = options.source;
  const kinds = ['postgres', 'parquet', 'dataset'];
  if (typeof source !== 'object' || source === null || !kinds.includes(source.kind)) rules.fail('source', `must be { kind: ${kinds.map((k) => `'${k}'`).join(' | ')}, ... }`, source);
  if (source.kind === 'dataset' && (typeof source.dataset !== 'object' || source.dataset === null || typeof source.dataset.mapBatches !== 'function')) rules.fail('source.dataset', 'must be a Dataset');
  if (source.kind === 'postgres' && (typeof source.url !== 'string' || (source.table === undefined) === (source.query === undefined))) rules.fail('source', 'of kind postgres needs a url and exactly one of table and query');
  const timestampField = rules.column('timestampField', options.timestampField, '');
  if (timestampField === '') rules.fail('timestampField', 'must name the event-time column');
  const created = options.createdTimestampField === undefined ? null : rules.column('createdTimestampField', options.createdTimestampField, '');
  if (created === '' || created === timestampField || (created !== null && joinKeys.includes(created))) rules.fail('createdTimestampField', 'must be another column than timestampField and the join keys', created);
  const features = featureSpecs(rules, 'features', options.features);
  for (const f of features) if (joinKeys.includes(f.name) || f.name === timestampField || f.name === created) rules.fail(`features.${f.name}`, 'must not be a join key or a timestamp field');
  const ttl = options.ttlMs === undefined ? null : rules.number('ttlMs', options.ttlMs, 0, { min: 1 });
  const allowedLatenessMs = rules.number('allowedLatenessMs', options.allowedLatenessMs, 0, { min: 0 });
  const p = options.pipeline;
  if (p !== undefined && typeof p !== 'string' && !(p instanceof PipelineModel)) rules.fail('pipeline', 'must be a fitted PipelineModel or the directory of a saved one');
  return {
    kind: 'featureView', name, entities: [...options.entities], joinKeys, source, timestampField, createdTimestampField: created, features, ttlMs: ttl, allowedLatenessMs,
    pipeline: p instanceof PipelineModel ? p : null, pipelinePath: typeof p === 'string' ? p : null, description: options.description ?? '',
  };
}

/** An on-demand feature view: features computed at request time by a fitted pipeline. */
export function defineOnDemandFeatureView(options: OnDemandFeatureViewOptions): OnDemandFeatureView {
  const rules = optionRules('defineOnDemandFeatureView');
  rules.knownKeys(rules.object(options), ['name', 'sources', 'request', 'pipeline', 'features', 'description']);
  const name = checkName(rules, options.name);
  if (!Array.isArray(options.sources) || options.sources.some((s) => typeof s !== 'string' || !/^[^:]+:[^:]+$/.test(s))) rules.fail('sources', 'must be a list of "view:feature" references', options.sources);
  if (!(options.pipeline instanceof PipelineModel)) rules.fail('pipeline', 'must be a fitted PipelineModel');
  return {
    kind: 'onDemandFeatureView', name, sources: [...options.sources], request: featureSpecs(rules, 'request', options.request ?? {}, true),
    pipeline: options.pipeline, features: featureSpecs(rules, 'features', options.features), description: options.description ?? '',
  };
}
