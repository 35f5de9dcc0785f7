/**
 * The featurizer contract. A `Featurizer` (estimator) computes statistics with `fit(dataset)` as
 * distributed aggregations and returns a `FeatureModel`. A model's whole behaviour is one pure kernel,
 * `transformTable(table)`: the distributed `transform(dataset)` runs it on every partition, and the
 * serving path (`transformBatch`, `transformRow`) runs the very same kernel in a plain process with
 * no cluster — so training and serving cannot drift apart. Models are saved by class name through a
 * registry (tfjs-layers style: `className`, `getConfig()`, `registerFeatureModel()`).
 */
import * as arrow from 'apache-arrow';
import type { Dataset } from '../data/index.js';
import { plain } from './columns.js';
import { applyStages } from './distributed.js';
import { FeatureError, UnknownModelClassError } from './errors.js';

/** A stage's saved parameters: JSON values plus Float64Array/Float32Array (saved as binary). */
export type StageConfig = { readonly [key: string]: unknown };

/** A fitted stage as saved: its registered class name and its config. */
export interface SavedStage {
  readonly className: string;
  readonly config: StageConfig;
}

/** A plain row: column name → value (numbers, strings, booleans, Dates or epoch ms, arrays, null). */
export type FeatureRow = Record<string, unknown>;

/** A fitted stage. */
export abstract class FeatureModel {
  /** Registered class name (the key of the model registry). */
  abstract readonly className: string;

  /** The kernel: this stage applied to one Arrow table (a partition or a serving batch). */
  abstract transformTable(table: arrow.Table): arrow.Table;

  /** Parameters that `fromConfig` of the registered class rebuilds the model from. */
  abstract getConfig(): StageConfig;

  toJSON(): SavedStage {
    return { className: this.className, config: this.getConfig() };
  }

  /** Distributed transform: a narrow per-partition operator running `transformTable` on the cluster. */
  transform(dataset: Dataset): Dataset {
    return applyStages(dataset, [this.toJSON()]);
  }

  /** Serving path, no cluster: a table in, a table out; or rows in, rows out. */
  transformBatch(input: arrow.Table): arrow.Table;
  transformBatch(input: readonly FeatureRow[]): FeatureRow[];
  transformBatch(input: arrow.Table | readonly FeatureRow[]): arrow.Table | FeatureRow[] {
    if (input instanceof arrow.Table) return this.transformTable(input);
    return tableToRows(this.transformTable(rowsToTable(input)));
  }

  /** Serving path for one record; `null` when the stage's invalid-value policy skips the row. */
  transformRow(record: FeatureRow): FeatureRow | null {
    return this.transformBatch([record])[0] ?? null;
  }
}

/** An estimator: `fit(dataset)` computes statistics on the cluster and returns the fitted model. */
export interface Featurizer<M extends FeatureModel = FeatureModel> {
  readonly className: string;
  /**
   * Columns `fit` reads. Optional: Pipeline.fit otherwise reads `inputCols`/`inputCol`/`targetCol`
   * (or `model.inputCol(s)`); a featurizer with none of them is fitted after all earlier stages.
   */
  readonly inputColumns?: readonly string[];
  fit(dataset: Dataset): Promise<M>;
}

/** Runtime guard for featurizers. */
export function isFeaturizer(v: unknown): v is Featurizer {
  return typeof v === 'object' && v !== null && typeof (v as Featurizer).fit === 'function' && typeof (v as Featurizer).className === 'string';
}

/** Runtime guard for fitted models. */
export function isFeatureModel(v: unknown): v is FeatureModel {
  return typeof v === 'object' && v !== null && typeof (v as FeatureModel).transformTable === 'function' && typeof (v as FeatureModel).getConfig === 'function';
}

type FromConfig = (config: StageConfig) => FeatureModel;
const registry = new Map<string, FromConfig>();

/** Registers a model class by name so saved pipelines can rebuild it (`fromConfig` validates the config). */
export function registerFeatureModel(className: string, fromConfig: FromConfig): void {
  registry.set(className, fromConfig);
}

/** Names of every registered model class. */
export function registeredFeatureModels(): string[] {
  return [...registry.keys()].sort();
}

/** Rebuilds a model from its saved form through the registry. */
export function modelFromJSON(saved: SavedStage, stage?: string): FeatureModel {
  const from = registry.get(saved.className);
  if (from === undefined) throw new UnknownModelClassError(saved.className, registeredFeatureModels(), { stage });
  return from(saved.config);
}

/** Arrow table from plain rows (column types inferred; Dates become epoch ms). */
export function rowsToTable(rows: readonly FeatureRow[]): arrow.Table {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) if (!seen.has(k)) (seen.add(k), names.push(k));
  const record: Record<string, arrow.Vector> = {};
  for (const name of names) {
    const values = rows.map((r) => {
      const v = r[name];
      return v instanceof Date ? v.getTime() : v === undefined ? null : v;
    });
    const sample = values.find((v) => v !== null);
    if (sample === undefined) record[name] = arrow.vectorFromArray(values as null[], new arrow.Null());
    else if (values.some((v) => typeof v === 'bigint' && !Number.isSafeInteger(Number(v)))) record[name] = int64Vector(name, values);
    else if (typeof sample === 'number' || typeof sample === 'bigint') record[name] = arrow.vectorFromArray(values.map((v) => (v === null ? null : Number(v))), new arrow.Float64());
    else if (typeof sample === 'string') record[name] = arrow.vectorFromArray(values.map((v) => (v === null ? null : String(v))), new arrow.Utf8());
    else if (typeof sample === 'boolean') record[name] = arrow.vectorFromArray(values as (boolean | null)[], new arrow.Bool());
    else if (Array.isArray(sample) || ArrayBuffer.isView(sample)) {
      const arrays = values.map((v) => (v === null ? null : Array.from(v as ArrayLike<unknown>)));
      const first = arrays.find((a) => a !== null && a.length > 0)?.[0];
      const item = typeof first === 'string' ? new arrow.Utf8() : new arrow.Float64();
      record[name] = arrow.vectorFromArray(arrays as unknown[][], new arrow.List(new arrow.Field('item', item, true)));
    } else throw new FeatureError(`cannot convert values of column "${name}" (${typeof sample}) to Arrow`, { column: name });
  }
  return new arrow.Table(record);
}

/** A column holding an integer float64 cannot represent exactly: Int64, every value an integer. */
function int64Vector(name: string, values: readonly unknown[]): arrow.Vector {
  const ints = values.map((v, row) => {
    if (v === null || typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
    throw new FeatureError(`holds 64-bit integers beyond 2^53 and, at row ${row}, ${typeof v === 'number' ? v : typeof v}: not an integer`, { column: name });
  });
  return arrow.vectorFromArray(ints as (bigint | null)[], new arrow.Int64());
}

/** Plain rows from an Arrow table (lists as number/string arrays; int64 as numbers when exact, else bigints). */
export function tableToRows(table: arrow.Table): FeatureRow[] {
  const names = table.schema.fields.map((f) => f.name);
  const cols = names.map((n) => table.getChild(n)!);
  const out: FeatureRow[] = [];
  for (let r = 0; r < table.numRows; r++) {
    const row: FeatureRow = {};
    for (let c = 0; c < names.length; c++) row[names[c]!] = plain(cols[c]!.get(r)) ?? null;
    out.push(row);
  }
  return out;
}
