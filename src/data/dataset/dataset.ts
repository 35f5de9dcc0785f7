/**
 * The lazy distributed Dataset (Spark DataFrame / Ray Data for TypeScript). Transformations only
 * build a logical plan, checked as it is built wherever the input's schema is known (plan-schema.ts);
 * an action (count, collect, take, show, iterBatches, write*) checks the rest of the plan against the
 * sources' schemas, optimizes it (fusion, projection and predicate pushdown) and runs it as stages
 * of partition tasks on the cluster, keeping intermediate partitions in the object store.
 */
import { randomUUID } from 'node:crypto';
import * as arrow from 'apache-arrow';
import { free, get, ObjectRef, serialize } from '../../core/index.js';
import { invalidOption, InvalidPlanError, InvalidWindowError, SchemaMismatchError, UnknownColumnError } from '../errors.js';
import { col, Expr, toNode, toSortKey, type ExprInput } from '../expr/expr.js';
import { AggFunction, agg as aggBuilders } from '../expr/agg-function.js';
import { WindowColumn, WindowFunction } from '../expr/window.js';
import type { AggSpec } from '../kernels/aggregate.js';
import { concatTables } from '../kernels/concat.js';
import type { JoinOn, JoinType } from '../kernels/hash-join.js';
import type { SortKey } from '../kernels/sort.js';
import { plainValue } from '../kernels/take.js';
import { logicalTypeOf, isNumericType } from '../types/logical-type.js';
import { compileExecutionOptions, type ExecutionOptions } from './execution-options.js';
import { Executor, type Stage, type StageStats } from './execution/executor.js';
import { prepareFileWrite } from './file-write.js';
import { writeFilesTask, writePostgresTask, type FileWriteSpec } from './execution/partition-tasks.js';
import { Progress } from './execution/progress.js';
import { optimize } from './optimizer/optimize.js';
import { planToString } from './plan/explain.js';
import { newNodeId, type BatchFunction, type CacheState, type PlanNode } from './plan/logical-plan.js';
import type { NarrowOp } from './plan/narrow-ops.js';
import { knownSchema, schemaOf } from './plan/plan-schema.js';
import { stagePostgresWrite, validateWritePostgres, type WritePostgresOptions, type WriteResult } from './postgres-write.js';
import { validatePostgresOptions } from './sources/postgres-source.js';
import { resolveSource } from './sources/resolve-source.js';
import type { ReadCsvOptions, ReadJsonOptions, ReadParquetOptions, ReadPostgresOptions, SourceSpec } from './sources/source-options.js';

type TableRef = ObjectRef<arrow.Table>;

export interface WriteFilesOptions {
  /** Hive-style `col=value/` directories by these columns (the columns are not stored in the files). */
  readonly partitionBy?: readonly string[];
  /** What to do when `dir` already holds files. @default 'error' */
  readonly mode?: 'error' | 'overwrite' | 'append';
}

export interface IterBatchesOptions {
  /** Partitions computed ahead of the consumer (pinned in the object store). @default the dataset's maxTasksInFlight */
  readonly prefetch?: number;
}

export interface MapBatchesOptions {
  /** Calls `fn` on batches of exactly this many rows in dataset order (the last may be shorter). @default one call per partition */
  readonly batchSize?: number;
  /**
   * Extra arguments after the table: any serializable values, or ObjectRefs (resolved to their values
   * on the worker). Each is put in the object store once per action, not sent with every task.
   */
  readonly args?: readonly unknown[];
}

/** What the last action of a Dataset decided (join strategies, pruned partitions, pushed SQL). */
export interface ExecutionReport {
  readonly events: readonly string[];
}

/** Explain-analyze of the last action: what every stage produced and the memory it held. */
export interface ExecutionStats {
  readonly stages: readonly StageStats[];
  /** The budget in-flight partitions were held to. */
  readonly memoryBudgetBytes: number | undefined;
  /** Most bytes of partitions any stage had in flight. */
  readonly peakInFlightBytes: number;
  /** A text table, one line per stage. */
  toString(): string;
}

const fmtBytes = (b: number): string => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);

function executionStats(exec: Executor | undefined): ExecutionStats {
  const stages = exec?.stages ?? [];
  const budget = exec?.budgetKnown();
  const peak = exec?.peakInFlightBytes() ?? 0;
  return {
    stages,
    memoryBudgetBytes: budget,
    peakInFlightBytes: peak,
    toString: () =>
      [
        ...stages.map((s) => `${s.label}: ${s.partitions} partitions, ${s.rows} rows, ${fmtBytes(s.bytes)}, ${s.ms} ms, peak in flight ${s.peakInFlightPartitions} partitions / ${fmtBytes(s.peakInFlightBytes)}`),
        `peak in flight ${fmtBytes(peak)} of a ${budget === undefined ? 'not yet known' : fmtBytes(budget)} budget`,
      ].join('\n'),
  };
}

export class Dataset {
  private report: ExecutionReport = { events: [] };
  private lastExec: Executor | undefined;

  /** @internal use the source functions (readParquet, fromArrow, range, ...) */
  constructor(
    readonly plan: PlanNode,
    private readonly execOptions: ExecutionOptions = {},
  ) {
    compileExecutionOptions(execOptions);
    // Checked as it is built where the input's schema is known without reading (plan-schema.ts):
    // an unknown column or a type error is thrown by the transformation that made it.
    knownSchema(plan);
  }

  private derive(plan: PlanNode): Dataset {
    return new Dataset(plan, this.execOptions);
  }

  private narrow(op: NarrowOp): Dataset {
    return this.derive({ kind: 'narrow', id: newNodeId(), input: this.plan, ops: [op] });
  }

  /** The same dataset with other execution options (tasks in flight, shuffle partitions, broadcast threshold, progress). */
  withOptions(options: ExecutionOptions): Dataset {
    return new Dataset(this.plan, { ...this.execOptions, ...options });
  }

  // ---------------- transformations (lazy) ----------------

  /** Keeps these columns or expressions (strings are column names); window columns need `.alias(name)`. */
  select(...columns: (string | Expr | WindowColumn)[]): Dataset {
    let ds: Dataset = this;
    const exprs = columns.map((c) => {
      if (c instanceof WindowColumn) {
        if (c.name === undefined) throw new InvalidWindowError(String(c), 'needs .alias(name) to be used in select()');
        ds = ds.withColumn(c.name, c);
        return col(c.name).node;
      }
      return typeof c === 'string' ? col(c).node : toNode(rejectUnboundFunction(c));
    });
    return ds.narrow({ op: 'select', exprs });
  }

  /** Adds or replaces a column: an expression, or a window function over a window (`rank().over(window().orderBy('x'))`). */
  withColumn(name: string, expr: ExprInput | WindowColumn): Dataset {
    if (expr instanceof WindowColumn) return this.withWindowColumn(name, expr);
    return this.narrow({ op: 'withColumn', name, expr: toNode(rejectUnboundFunction(expr)) });
  }

  /** Window columns with the same partitioning added one after another share one window node (one shuffle). */
  private withWindowColumn(name: string, w: WindowColumn): Dataset {
    if (name === '') throw invalidOption('withColumn(name)', 'must be a non-empty column name');
    const column = { name, fn: w.fn, spec: w.spec };
    const prev = this.plan;
    const sameKeys = prev.kind === 'window' && prev.partitionBy.join('\u0000') === w.spec.partitionBy.join('\u0000');
    if (sameKeys && !prev.columns.some((c) => prev.partitionBy.includes(c.name))) {
      return this.derive({ ...prev, id: newNodeId(), columns: [...prev.columns, column] });
    }
    return this.derive({ kind: 'window', id: newNodeId(), input: prev, partitionBy: [...w.spec.partitionBy], columns: [column] });
  }

  /** Keeps rows where `predicate` is true (false and null drop the row). */
  filter(predicate: ExprInput): Dataset {
    return this.narrow({ op: 'filter', predicate: toNode(rejectUnboundFunction(predicate)) });
  }

  /** Alias of filter. */
  where(predicate: ExprInput): Dataset {
    return this.filter(predicate);
  }

  drop(...columns: string[]): Dataset {
    return this.narrow({ op: 'drop', columns });
  }

  /** Renames columns: `rename({ old: 'new' })` or `rename('old', 'new')`. */
  rename(mapping: Readonly<Record<string, string>> | string, to?: string): Dataset {
    const pairs: [string, string][] = typeof mapping === 'string' ? [[mapping, to ?? '']] : Object.entries(mapping);
    for (const [, b] of pairs) if (b === '') throw invalidOption('rename', 'needs a non-empty new name');
    return this.narrow({ op: 'rename', mapping: pairs });
  }

  /** The first `n` rows (in partition order). */
  limit(n: number): Dataset {
    if (!Number.isInteger(n) || n < 0) throw invalidOption('limit(n)', `n must be a non-negative integer; got ${n}`);
    return this.derive({ kind: 'limit', id: newNodeId(), input: this.plan, n });
  }

  /** Rows of this dataset followed by the others' (same columns, order and types; duplicates kept). */
  union(...others: Dataset[]): Dataset {
    return this.derive({ kind: 'union', id: newNodeId(), inputs: [this.plan, ...others.map((o) => o.plan)] });
  }

  /** Removes duplicate rows; with columns, compares only those (Spark dropDuplicates). */
  distinct(...columns: string[]): Dataset {
    return this.derive({ kind: 'distinct', id: newNodeId(), input: this.plan, columns: columns.length > 0 ? columns : null });
  }

  /**
   * Globally sorted by the keys (range-partitioned; partitions come out in order): column names
   * (ascending), `col('x').desc()` / `.asc()` / `.descNullsFirst()` ..., or `{ column, ascending, nullsFirst }`.
   */
  sort(...keys: (string | SortKey | Expr)[]): Dataset {
    if (keys.length === 0) throw invalidOption('sort()', 'needs at least one key');
    const sortKeys = keys.map((k, i) => {
      const key = toSortKey(k);
      if (key === undefined) {
        const what = k instanceof Expr ? `the expression ${k.toString()} (add it as a column with withColumn, then sort by its name)` : String(k);
        throw invalidOption(`sort() key ${i}`, `must be a column name, col(name).asc()/.desc() or { column, ascending?, nullsFirst? }; got ${what}`);
      }
      return key;
    });
    return this.derive({ kind: 'sort', id: newNodeId(), input: this.plan, keys: sortKeys });
  }

  /** Alias of sort. */
  orderBy(...keys: (string | SortKey | Expr)[]): Dataset {
    return this.sort(...keys);
  }

  /** `n` partitions: by hash of `columns`, or evenly (round robin by slices) without them. */
  repartition(n: number, ...columns: string[]): Dataset {
    if (!Number.isInteger(n) || n < 1) throw invalidOption('repartition(n)', `n must be a positive integer; got ${n}`);
    return this.derive({ kind: 'repartition', id: newNodeId(), input: this.plan, n, columns: columns.length > 0 ? columns : null });
  }

  /** Bernoulli sample: each row kept with probability `fraction`, reproducibly for a seed. */
  sample(fraction: number, seed = 0): Dataset {
    if (!(fraction >= 0 && fraction <= 1)) throw invalidOption('sample(fraction)', `fraction must be between 0 and 1; got ${fraction}`);
    if (!Number.isInteger(seed)) throw invalidOption('sample(seed)', `seed must be an integer; got ${seed}`);
    return this.narrow({ op: 'sample', lo: 0, hi: fraction, seed });
  }

  /**
   * Splits rows at random into disjoint datasets with sizes proportional to `weights` (every row lands
   * in exactly one). Each split re-reads the input, so the input must be deterministic (files, tables,
   * range — not a live table that changes between actions).
   */
  randomSplit(weights: readonly number[], seed = 0): Dataset[] {
    if (weights.length === 0 || weights.some((w) => !(w >= 0)) || weights.every((w) => w === 0)) {
      throw invalidOption('randomSplit(weights)', 'must be non-negative numbers, not all zero');
    }
    const total = weights.reduce((a, b) => a + b, 0);
    let acc = 0;
    return weights.map((w, i) => {
      const lo = acc / total;
      acc += w;
      const hi = i === weights.length - 1 ? 1.0000001 : acc / total;
      return this.narrow({ op: 'sample', lo, hi, seed });
    });
  }

  /** Groups by key columns; finish with `.agg(...)` or `.count()`. */
  groupBy(...keys: string[]): GroupedDataset {
    return new GroupedDataset(this, keys);
  }

  /** Global aggregate: one row. */
  agg(...aggs: AggSpec[]): Dataset {
    return this.groupBy().agg(...aggs);
  }

  /**
   * Approximate quantiles of numeric column(s), like Spark's `approxQuantile`: one pass with a
   * mergeable sketch (partial per partition, merged after the shuffle). The value returned for
   * probability q has a rank within relativeError·N + 1 of q·N among the N non-null values (0 = exact).
   * Returns [] for a column without values.
   */
  approxQuantile(column: string, probabilities: readonly number[], relativeError: number): Promise<number[]>;
  approxQuantile(columns: readonly string[], probabilities: readonly number[], relativeError: number): Promise<number[][]>;
  async approxQuantile(columns: string | readonly string[], probabilities: readonly number[], relativeError: number): Promise<number[] | number[][]> {
    const list = typeof columns === 'string' ? [columns] : [...columns];
    if (list.length === 0) throw invalidOption('approxQuantile(columns)', 'needs at least one column');
    if (!Array.isArray(probabilities) || probabilities.length === 0) throw invalidOption('approxQuantile(probabilities)', 'must be a non-empty list of numbers in [0, 1]');
    const specs = list.map((c, i) => aggBuilders.approxQuantile(c, probabilities, { relativeError, as: `q${i}` }));
    const row = (await this.agg(...specs).take(1))[0]!;
    const out = list.map((_, i) => (row[`q${i}`] as number[] | null) ?? []);
    return typeof columns === 'string' ? out[0]! : out;
  }

  /** @internal */
  aggregate(keys: readonly string[], aggs: readonly AggSpec[]): Dataset {
    if (aggs.length === 0) throw invalidOption('agg()', 'needs at least one aggregate');
    const specs = aggs.map((a, i) => aggSpecOf(a, i));
    return this.derive({ kind: 'aggregate', id: newNodeId(), input: this.plan, keys, aggs: specs });
  }

  /**
   * Joins with `other` on shared column names (or `{ left, right }` key lists). A side whose
   * partitions measure at most `broadcastThresholdBytes` of Arrow buffers is broadcast to the other
   * side's tasks; otherwise both sides are hash-shuffled into the same number of partitions.
   */
  join(other: Dataset, on: JoinOn, how: JoinType = 'inner'): Dataset {
    if (!['inner', 'left', 'right', 'full', 'semi', 'anti'].includes(how)) throw invalidOption('join(how)', `must be inner, left, right, full, semi or anti; got ${String(how)}`);
    return this.derive({ kind: 'join', id: newNodeId(), left: this.plan, right: other.plan, on, how });
  }

  /**
   * Runs `fn` on every partition (one Arrow table in, one out), or on batches of `batchSize` rows.
   * `fn` must be a remote function made with `remote()` at the top level of a module (its module is
   * shipped to the workers); `args` follow the table in every call.
   */
  mapBatches(fn: BatchFunction, options: MapBatchesOptions = {}): Dataset {
    if (fn === null || typeof fn !== 'object' || typeof fn.remote !== 'function') {
      throw invalidOption('mapBatches(fn)', `must be a remote function: export const f = remote(function f(t: Table) { ... }) at the top level of a module; got ${typeof fn === 'function' ? `the plain function ${(fn as { name: string }).name || '(anonymous)'}` : String(fn)}`);
    }
    const { batchSize, args = [] } = options;
    if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1)) throw invalidOption('mapBatches options.batchSize', `must be a positive integer; got ${String(batchSize)}`);
    if (!Array.isArray(args)) throw invalidOption('mapBatches options.args', `must be an array of arguments; got ${typeof args}`);
    args.forEach((a, i) => {
      if (a instanceof ObjectRef) return;
      try {
        serialize(a, { label: `mapBatches options.args[${i}]` });
      } catch (err) {
        throw invalidOption(`mapBatches options.args[${i}]`, `is not serializable (${(err as Error).message})`, { cause: err });
      }
    });
    return this.derive({ kind: 'mapBatches', id: newNodeId(), input: this.plan, fn, args: [...args], batchSize: batchSize ?? null });
  }

  /** One row per element of the list column `column` (Spark explode: null and empty lists give no row). */
  explode(column: string): Dataset {
    if (typeof column !== 'string' || column === '') throw invalidOption('explode(column)', `must be a column name; got ${String(column)}`);
    return this.narrow({ op: 'explode', column, outer: false });
  }

  /** Like explode, but a null or empty list gives one row with a null element (Spark explode_outer). */
  explodeOuter(column: string): Dataset {
    if (typeof column !== 'string' || column === '') throw invalidOption('explodeOuter(column)', `must be a column name; got ${String(column)}`);
    return this.narrow({ op: 'explode', column, outer: true });
  }

  /**
   * This dataset, computed once by the first action that needs it; its partitions then stay in the
   * object store (spilling to disk past the store's memory cap) and later actions on it, or on datasets
   * derived from it, reuse them. Release them with `unpersist()`. The partitions belong to the
   * connected cluster.
   */
  cache(): Dataset {
    const state: CacheState = { refs: null };
    return this.derive({ kind: 'cache', id: newNodeId(), input: this.plan, state });
  }

  /** Alias of cache(). */
  persist(): Dataset {
    return this.cache();
  }

  /** Computes the dataset now and returns it cached (Ray Data's materialize). */
  async materialize(): Promise<Dataset> {
    const cached = this.plan.kind === 'cache' ? this : this.cache();
    await cached.count();
    return cached;
  }

  /** Frees the partitions of a cached dataset (a later action computes them again); no-op when not cached. */
  unpersist(): Dataset {
    if (this.plan.kind === 'cache' && this.plan.state.refs !== null) {
      const refs = this.plan.state.refs;
      this.plan.state.refs = null;
      free(refs);
    }
    return this;
  }

  /** Partitions in the object store when this dataset is cached and computed, else null. */
  cachedPartitions(): number | null {
    return this.plan.kind === 'cache' ? (this.plan.state.refs?.length ?? null) : null;
  }

  // ---------------- actions ----------------

  /** The output schema (checks the plan; may read file footers or infer CSV types). */
  schema(): Promise<arrow.Schema> {
    return schemaOf(this.plan);
  }

  /** Runs an action over the optimized plan; `required`: the output columns it reads (null: all). */
  private async run<T>(body: (exec: Executor, physical: PlanNode) => Promise<T>, required: ReadonlySet<string> | null = null): Promise<T> {
    const options = compileExecutionOptions(this.execOptions);
    const progress = new Progress(options.progress);
    const exec = new Executor(options, progress);
    this.lastExec = exec;
    try {
      const physical = await optimize(this.plan, required);
      return await body(exec, physical);
    } finally {
      progress.finish();
      this.report = { events: [...exec.events] };
    }
  }

  /** What the last action decided (join strategies, skipped partitions, pushed SQL). */
  lastExecution(): ExecutionReport {
    return this.report;
  }

  /**
   * Per stage of the last (or the running) action: partitions, rows, Arrow bytes, time and peak
   * in-flight partitions and bytes; `String(ds.stats())` is an explain-analyze text.
   */
  stats(): ExecutionStats {
    return executionStats(this.lastExec);
  }

  /** Number of rows. */
  async count(): Promise<number> {
    return this.run(async (exec, physical) => {
      // Row counts known from planning (Arrow tables, range, Parquet footers) need no task.
      if (physical.kind === 'scan' && physical.ops.length === 0 && physical.pushed.length === 0 && ['arrow', 'range', 'parquet'].includes(physical.source.type)) {
        const resolved = await resolveSource(physical.source);
        if (resolved.partitions.every((p) => p.rows !== undefined)) {
          exec.events.push('count: from source metadata');
          return resolved.partitions.reduce((s, p) => s + (p.rows ?? 0), 0);
        }
      }
      const counts = await exec.partitionRowCounts(physical);
      return counts.reduce((a, b) => a + b, 0);
    }, new Set());
  }

  /** Every row as one Arrow table (partitions in order). */
  async toArrow(): Promise<arrow.Table> {
    const schema = await this.schema();
    return this.run(async (exec, physical) => {
      const tables: arrow.Table[] = [];
      for await (const ref of exec.stream(await exec.build(physical), exec.options.maxTasksInFlight)) tables.push(await get(ref));
      const nonEmpty = tables.filter((t) => t.numRows > 0);
      if (nonEmpty.length === 0) return tables[0]?.schema.fields.length === schema.fields.length ? tables[0]! : new arrow.Table(schema);
      return concatTables(nonEmpty);
    });
  }

  /** Alias of toArrow. */
  collect(): Promise<arrow.Table> {
    return this.toArrow();
  }

  /** The first `n` rows as plain objects. */
  async take(n: number): Promise<Record<string, unknown>[]> {
    const t = await this.limit(n).toArrow();
    return tableRows(t);
  }

  /** Prints the first `n` rows as a text table (Spark `show`: prints, returns nothing; `showString` gives the text). */
  async show(n = 20): Promise<void> {
    console.log(await this.showString(n));
  }

  /** The first `n` rows as the text table `show()` prints. */
  async showString(n = 20): Promise<string> {
    return formatTable(await this.limit(n).toArrow());
  }

  /** count, mean, stddev, min and max of every numeric column: one row per statistic. */
  async describe(): Promise<arrow.Table> {
    const schema = await this.schema();
    const numeric = schema.fields.filter((f) => isNumericType(logicalTypeOf(f.type, f.name))).map((f) => f.name);
    const stats = ['count', 'mean', 'stddev', 'min', 'max'] as const;
    const specs = numeric.flatMap((c) => [aggBuilders.count(c, `count:${c}`), aggBuilders.mean(c, `mean:${c}`), aggBuilders.stddev(c, `stddev:${c}`), aggBuilders.min(c, `min:${c}`), aggBuilders.max(c, `max:${c}`)]);
    const row = specs.length === 0 ? {} : (await this.agg(...specs).take(1))[0]!;
    const columns: Record<string, arrow.Vector> = { summary: arrow.vectorFromArray([...stats], new arrow.Utf8()) };
    for (const c of numeric) {
      columns[c] = arrow.vectorFromArray(
        stats.map((s) => {
          const v = row[`${s}:${c}`];
          return v === null || v === undefined ? null : Number(v);
        }),
        new arrow.Float64(),
      );
    }
    return new arrow.Table(columns);
  }

  /** Prints the logical plan and the optimized physical plan (Spark `explain`: prints, returns nothing; `explainString` gives the text). */
  async explain(): Promise<void> {
    console.log(await this.explainString());
  }

  /** The logical plan and the optimized physical plan, as the text `explain()` prints. */
  async explainString(): Promise<string> {
    const physical = await optimize(this.plan);
    return `== Logical plan ==\n${planToString(this.plan)}\n== Optimized plan ==\n${planToString(physical)}`;
  }

  /**
   * Streams the result partition by partition, in order: at most `prefetch` partitions (and no more
   * bytes than the memory budget) are computed ahead of the consumer, and each is freed from the
   * object store once the consumer moves on — a slow consumer holds the cluster back instead of
   * filling it. Earlier stages (the inputs of a shuffle) run to completion first.
   */
  async *iterBatches(options: IterBatchesOptions = {}): AsyncGenerator<arrow.Table, void, undefined> {
    const compiled = compileExecutionOptions(this.execOptions);
    const prefetch = options.prefetch ?? compiled.maxTasksInFlight;
    if (!Number.isInteger(prefetch) || prefetch < 1) throw invalidOption('options.prefetch', `must be a positive integer; got ${prefetch}`);
    const progress = new Progress(compiled.progress);
    const exec = new Executor(compiled, progress);
    this.lastExec = exec;
    try {
      const stage: Stage = await exec.build(await optimize(this.plan));
      for await (const ref of exec.stream(stage, prefetch)) yield await get(ref);
    } finally {
      progress.finish();
      this.report = { events: [...exec.events] };
    }
  }

  private async writeFiles(dir: string, format: 'parquet' | 'csv', options: WriteFilesOptions): Promise<WriteResult> {
    const mode = options.mode ?? 'error';
    if (!['error', 'overwrite', 'append'].includes(mode)) throw invalidOption('options.mode', `must be error, overwrite or append; got ${String(mode)}`);
    const partitionBy = [...(options.partitionBy ?? [])];
    const schema = await this.schema();
    for (const c of partitionBy) if (!schema.fields.some((f) => f.name === c)) throw new UnknownColumnError(c, schema.fields.map((f) => f.name));
    const jobId = randomUUID().slice(0, 8);
    // Checked before any compute; tasks write into a staging folder swapped in only on success.
    const write = await prepareFileWrite(dir, mode, this.plan, jobId);
    try {
      const result = await this.run(async (exec, physical) => {
        const counts = await writeStage(exec, await exec.build(physical), `write ${format}`, (i, ref) =>
          writeFilesTask.remote(ref, { dir: write.staging, format, partitionBy, partition: i, jobId } satisfies FileWriteSpec),
        );
        return { rowsWritten: counts.reduce((a, b) => a + b, 0) };
      });
      await write.commit();
      return result;
    } catch (err) {
      await write.abort();
      throw err;
    }
  }

  /** Writes Parquet files under `dir` (one per partition, or per partition and `partitionBy` value). */
  writeParquet(dir: string, options: WriteFilesOptions = {}): Promise<WriteResult> {
    return this.writeFiles(dir, 'parquet', options);
  }

  /** Writes CSV files (with a header) under `dir`. */
  writeCsv(dir: string, options: WriteFilesOptions = {}): Promise<WriteResult> {
    return this.writeFiles(dir, 'csv', options);
  }

  /** Writes to PostgreSQL with COPY through a staging table, published in one transaction. */
  async writePostgres(options: WritePostgresOptions): Promise<WriteResult> {
    const schema = await this.schema();
    validateWritePostgres(options, schema);
    const staged = await stagePostgresWrite(options, schema);
    try {
      const result = await this.run(async (exec, physical) => {
        const counts = await writeStage(exec, await exec.build(physical), 'write postgres', (_i, ref) => writePostgresTask.remote(ref, options.url, staged.staging));
        return { rowsWritten: counts.reduce((a, b) => a + b, 0) };
      });
      await staged.commit();
      return result;
    } catch (err) {
      await staged.abort();
      throw err;
    }
  }
}

/**
 * Runs `stage` with a write task on each partition as it is computed (one pipelined stage under the
 * executor's backpressure); each computed partition is freed once its write finished. Rows written per partition.
 */
async function writeStage(exec: Executor, stage: Stage, label: string, write: (i: number, ref: TableRef) => ObjectRef<number>): Promise<number[]> {
  const computed: (TableRef | undefined)[] = [];
  const done = await exec.materialize(
    {
      label: `${stage.label} + ${label}`,
      numPartitions: stage.numPartitions,
      submit: (i) => {
        computed[i] = stage.submit(i);
        return write(i, computed[i]) as unknown as TableRef;
      },
      ...(stage.cleanup !== undefined ? { cleanup: stage.cleanup } : {}),
      ...(stage.consumes !== undefined ? { consumes: stage.consumes } : {}),
    },
    (i) => {
      exec.release([computed[i]!]);
      computed[i] = undefined;
    },
  );
  return (await get(done)) as unknown as number[];
}

/** `groupBy(...)` awaiting its aggregates. */
export class GroupedDataset {
  constructor(
    private readonly dataset: Dataset,
    readonly keys: readonly string[],
  ) {}

  /** Aggregates per group: `agg(agg.sum('price', 'total'), agg.count())`. */
  agg(...aggs: AggSpec[]): Dataset {
    return this.dataset.aggregate(this.keys, aggs);
  }

  /** Rows per group, as column `count`. */
  count(): Dataset {
    return this.agg(aggBuilders.count(undefined, 'count'));
  }
}

/**
 * A window function used without `.over(window)`, or an aggregate used as a column, is an error naming
 * the function, not a literal.
 */
function rejectUnboundFunction<T>(e: T): T {
  if (e instanceof WindowFunction) throw new InvalidWindowError(String(e), 'is a window function used without over(); write fn.over(window().partitionBy(...).orderBy(...))');
  if (e instanceof AggFunction) {
    throw new InvalidWindowError(String(e), `is an aggregate: use it in groupBy(...).agg(...), or as a window column with agg.${e.op}(...).over(window().partitionBy(...))`, e.column);
  }
  return e;
}

/** One argument of `agg(...)` as a plain spec (the plan keeps and ships plain data). */
function aggSpecOf(a: unknown, i: number): AggSpec {
  if (a instanceof WindowFunction || a instanceof WindowColumn) {
    throw new InvalidPlanError(`agg(): argument ${i} (${String(a)}) is a window function; add it with withColumn(name, fn.over(window)) instead`);
  }
  if (a instanceof Expr || typeof a !== 'object' || a === null || typeof (a as { op?: unknown }).op !== 'string') {
    throw new InvalidPlanError(`agg(): argument ${i} (${a instanceof Expr ? a.toString() : String(a)}) is not an aggregate; build one with agg.count(), agg.sum('col'), agg.mean('col', 'alias'), ...`);
  }
  return a instanceof AggFunction ? a.toJSON() : { ...(a as AggSpec) };
}

function tableRows(t: arrow.Table): Record<string, unknown>[] {
  const names = t.schema.fields.map((f) => f.name);
  const cols = names.map((_, i) => t.getChildAt(i)!);
  const out: Record<string, unknown>[] = [];
  for (let r = 0; r < t.numRows; r++) {
    const row: Record<string, unknown> = {};
    names.forEach((n, i) => (row[n] = plainValue(cols[i]!.get(r))));
    out.push(row);
  }
  return out;
}

function cellText(v: unknown, type: arrow.DataType): string {
  if (v === null || v === undefined) return 'null';
  const t = String(type);
  if (t.startsWith('Date')) return new Date(Number(v)).toISOString().slice(0, 10);
  if (t.startsWith('Timestamp')) return new Date(Number(v)).toISOString().replace('T', ' ').replace('Z', '');
  if (Array.isArray(v)) return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x));
  return String(v);
}

/** A boxed text table, Spark `show()` style; cells longer than 20 characters are truncated. */
export function formatTable(t: arrow.Table): string {
  const names = t.schema.fields.map((f) => f.name);
  const rows = tableRows(t).map((r) =>
    t.schema.fields.map((f) => {
      const s = cellText(r[f.name], f.type);
      return [...s].length > 20 ? `${[...s].slice(0, 17).join('')}...` : s;
    }),
  );
  const widths = names.map((n, i) => Math.max([...n].length, ...rows.map((r) => [...r[i]!].length)));
  const pad = (s: string, w: number): string => ' '.repeat(w - [...s].length) + s;
  const line = `+${widths.map((w) => '-'.repeat(w)).join('+')}+`;
  const out = [line, `|${names.map((n, i) => pad(n, widths[i]!)).join('|')}|`, line];
  for (const r of rows) out.push(`|${r.map((c, i) => pad(c, widths[i]!)).join('|')}|`);
  out.push(line);
  return out.join('\n');
}

// ---------------- sources ----------------

function source(spec: SourceSpec, options?: ExecutionOptions): Dataset {
  return new Dataset({ kind: 'source', id: newNodeId(), source: spec }, options);
}

/** A dataset over Arrow tables (one partition each), or one table split into `numPartitions`. */
export function fromArrow(tables: arrow.Table | readonly arrow.Table[], options: { numPartitions?: number } = {}): Dataset {
  let list: arrow.Table[];
  if (tables instanceof arrow.Table) {
    const n = options.numPartitions ?? 1;
    if (!Number.isInteger(n) || n < 1) throw invalidOption('options.numPartitions', `must be a positive integer; got ${String(n)}`);
    const size = Math.ceil(tables.numRows / n);
    list = Array.from({ length: n }, (_, i) => tables.slice(Math.min(tables.numRows, i * size), Math.min(tables.numRows, (i + 1) * size)));
  } else list = [...tables];
  if (list.length === 0) throw invalidOption('fromArrow(tables)', 'needs at least one table');
  return source({ type: 'arrow', partitions: list });
}

/** A dataset from plain row objects (types inferred by Arrow: numbers become float64). */
export function fromRows(rows: readonly Record<string, unknown>[], options: { numPartitions?: number } = {}): Dataset {
  checkRowKinds(rows);
  return fromArrow(arrow.tableFromJSON(rows as Record<string, unknown>[]), options);
}

/** The kind of a JS value as Arrow's inference sees it (a number and a bigint do not mix). */
function valueKind(v: unknown): string {
  if (v instanceof Date) return 'date';
  if (Array.isArray(v)) return 'list';
  return typeof v;
}

/**
 * One kind of value per column (nulls aside): Arrow's inference would otherwise turn a column of
 * strings and numbers into strings silently.
 */
function checkRowKinds(rows: readonly Record<string, unknown>[]): void {
  const first = new Map<string, { kind: string; row: number }>();
  rows.forEach((r, i) => {
    for (const [k, v] of Object.entries(r)) {
      if (v === null || v === undefined) continue;
      const kind = valueKind(v);
      const seen = first.get(k);
      if (seen === undefined) first.set(k, { kind, row: i });
      else if (seen.kind !== kind) {
        throw new SchemaMismatchError(`fromRows: column "${k}" holds a ${seen.kind} in row ${seen.row} and a ${kind} in row ${i} (${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}); a column holds one type`, k);
      }
    }
  });
}

/** Rows 0..n-1 in an int64 column `id`. */
export function range(n: number, options: { numPartitions?: number } = {}): Dataset {
  if (!Number.isInteger(n) || n < 0) throw invalidOption('range(n)', `n must be a non-negative integer; got ${n}`);
  const p = options.numPartitions ?? 1;
  if (!Number.isInteger(p) || p < 1) throw invalidOption('options.numPartitions', `must be a positive integer; got ${String(p)}`);
  return source({ type: 'range', n, numPartitions: p });
}

/** CSV files: a path, a list, a directory or a `*` glob; one partition per file. */
export function readCsv(paths: string | readonly string[], options: ReadCsvOptions = {}): Dataset {
  return source({ type: 'csv', paths, options });
}

/** JSON-lines files; one partition per file. */
export function readJson(paths: string | readonly string[], options: ReadJsonOptions = {}): Dataset {
  return source({ type: 'json', paths, options });
}

/**
 * Parquet files (a path, list, directory with Hive `key=value/` partitions, or glob); one partition
 * per row group. `columns` and `filter` are pushed into the read tasks; row groups and partitions
 * that statistics rule out are never read.
 */
export function readParquet(paths: string | readonly string[], options: ReadParquetOptions = {}): Dataset {
  let ds = source({ type: 'parquet', paths, mergeSchema: options.mergeSchema ?? false });
  if (options.filter !== undefined) ds = ds.filter(options.filter);
  if (options.columns !== undefined) ds = ds.select(...options.columns);
  return ds;
}

/**
 * A PostgreSQL table or query, range-partitioned on `partitionColumn` into `numPartitions` queries
 * read in parallel, all from one exported snapshot (a consistent view even while others write).
 */
export function readPostgres(options: ReadPostgresOptions): Dataset {
  validatePostgresOptions(options);
  return source({ type: 'postgres', options });
}

