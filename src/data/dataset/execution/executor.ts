/**
 * Turns a physical plan into stages of partition tasks and runs them. Every intermediate partition
 * stays in the object store as an ObjectRef (the driver fetches only sizes, sort samples and final
 * results). Memory is bounded by backpressure: a stage submits a task only while fewer than
 * `maxTasksInFlight` run and the partitions in flight fit the memory budget (bytes estimated from the
 * partitions the stage already produced, measured from their Arrow buffers), and `stream()` hands the
 * last stage's partitions to a consumer in order with at most `window` partitions pinned ahead of it.
 * Partitions are freed as soon as the stage that consumes them has finished (never those of a cache).
 * Every stage has at least one partition.
 */
import type * as arrow from 'apache-arrow';
import { clusterStatus, free, get, ObjectRef, put, wait } from '../../../core/index.js';
import { concatTables } from '../../kernels/concat.js';
import { sortTable } from '../../kernels/sort.js';
import { takeTable } from '../../kernels/take.js';
import { exportSnapshot } from '../../io/pg-snapshot.js';
import { pgPartitionQueries } from '../../io/pg-partition-queries.js';
import type { CompiledExecutionOptions } from '../execution-options.js';
import { canSkipPartition, postgresWhere } from '../optimizer/predicate-pushdown.js';
import type { PlanNode } from '../plan/logical-plan.js';
import { emptyTable } from '../plan/narrow-ops.js';
import { schemaOf } from '../plan/plan-schema.js';
import { connectPostgres, withPushedWhere } from '../sources/postgres-source.js';
import type { ReadSpec } from '../sources/read-spec.js';
import { resolveSource } from '../sources/resolve-source.js';
import {
  broadcastJoinFusedTask, mapFusedTask, mapTask, readFusedTask, readTask, shuffleJoinFusedTask, shuffleReduceFusedTask, shuffleMapTask, shuffleReduceTask, sliceTask, sortSampleTask,
} from './partition-tasks.js';
import type { Progress } from './progress.js';
import type { FusedOutput, JoinSpec, ShuffleMap, ShuffleReduce } from './shuffle-kernels.js';
import { joinKeys, type JoinType } from '../../kernels/hash-join.js';
import { batchSliceTask, partitionSizeTask, planBatches, type PartitionSize } from './stats-tasks.js';

type TableRef = ObjectRef<arrow.Table>;
/** A fused step's extra argument: a partition, or a shuffle map output. */
type ArgRef = ObjectRef<arrow.Table | arrow.Table[]>;

/** A stage not yet submitted: partition i's task is made by `submit(i)`. */
export interface Stage {
  readonly label: string;
  readonly numPartitions: number;
  submit(i: number): TableRef;
  /** Runs once every partition task of the stage has finished (e.g. releases a PostgreSQL snapshot). */
  cleanup?: () => Promise<void>;
  /**
   * Partition i's task fused with what consumes its table (the map side of a shuffle, a row count, a
   * broadcast join), so the table itself is never written to the object store; `extra` are the refs
   * `out`'s steps take as arguments, passed after the task's own. Absent when the stage cannot fuse.
   */
  fuse?: (i: number, out: FusedOutput, extra: readonly ArgRef[]) => ObjectRef<arrow.Table | arrow.Table[] | number>;
  /** Partitions of earlier stages this stage's tasks read: freed once all of them have finished. */
  consumes?: readonly ObjectRef[];
}

/** What one stage did: filled in while it runs (`ds.stats()`). */
export interface StageStats {
  readonly label: string;
  /** Partitions the stage produced. */
  partitions: number;
  /** Rows the stage produced. */
  rows: number;
  /** Arrow buffer bytes of the partitions the stage produced (0 when they never reached the store: fused counts). */
  bytes: number;
  /** Wall time from the first submission to the last result. */
  ms: number;
  /** Most bytes of this stage's partitions in flight (submitted and not yet finished, or not yet consumed when streamed). */
  peakInFlightBytes: number;
  /** Most partitions in flight at once. */
  peakInFlightPartitions: number;
}

const MAX_SHUFFLE_PARTITIONS = 64;
const SORT_SAMPLE_ROWS = 200;
/** Memory budget when the cluster reports no store capacity (yet): 512 MiB. */
const FALLBACK_BUDGET_BYTES = 512 * 2 ** 20;

/** The in-flight accounting of one running stage. */
class StageRun {
  readonly stats: StageStats;
  private readonly started = Date.now();
  private doneBytes = 0;
  private done = 0;
  private readonly known = new Map<number, number>();
  private readonly pending = new Set<number>();

  constructor(
    label: string,
    private readonly budget: number,
    private readonly cpus: number,
  ) {
    this.stats = { label, partitions: 0, rows: 0, bytes: 0, ms: 0, peakInFlightBytes: 0, peakInFlightPartitions: 0 };
  }

  /** Expected bytes of a partition not measured yet: the mean of those measured so far. */
  private estimate(): number {
    return this.done === 0 ? 0 : this.doneBytes / this.done;
  }

  inFlightBytes(): number {
    let n = 0;
    for (const i of this.pending) n += this.known.get(i) ?? this.estimate();
    return n;
  }

  /**
   * True when one more partition fits beside those in flight: always when none is; before any
   * partition of the stage is measured, while fewer run than the cluster has CPUs (more could not
   * run yet anyway); then while the estimate fits the budget.
   */
  admits(): boolean {
    if (this.pending.size === 0) return true;
    if (this.done === 0) return this.pending.size < this.cpus;
    return this.inFlightBytes() + this.estimate() <= this.budget;
  }

  started_(i: number): void {
    this.pending.add(i);
    this.peak();
  }

  measured(i: number, size: PartitionSize): void {
    this.known.set(i, size.bytes);
    this.done++;
    this.doneBytes += size.bytes;
    this.stats.partitions++;
    this.stats.rows += size.rows;
    this.stats.bytes += size.bytes;
    this.peak();
  }

  released(i: number): void {
    this.pending.delete(i);
    this.stats.ms = Date.now() - this.started;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private peak(): void {
    this.stats.peakInFlightPartitions = Math.max(this.stats.peakInFlightPartitions, this.pending.size);
    this.stats.peakInFlightBytes = Math.max(this.stats.peakInFlightBytes, Math.round(this.inFlightBytes()));
  }
}

export class Executor {
  /** What the executor decided (join strategies, pruned partitions), for explain and tests. */
  readonly events: string[] = [];
  /** One entry per stage run, in order. */
  readonly stages: StageStats[] = [];
  /** Objects that outlive the action (cached partitions): never freed by the executor. */
  private readonly keep = new Set<string>();
  /** Sizes of partitions measured so far, by object id. */
  private readonly sizes = new Map<string, PartitionSize>();
  private budgetBytes: number | undefined;
  private cpus = 1;

  constructor(
    readonly options: CompiledExecutionOptions,
    readonly progress: Progress,
  ) {}

  /**
   * The memory budget (the option, or half the object store capacity of the cluster's live nodes) and
   * the cluster's CPUs, read once per action.
   */
  private async cluster(): Promise<{ budget: number; cpus: number }> {
    if (this.budgetBytes !== undefined) return { budget: this.budgetBytes, cpus: this.cpus };
    const nodes = (await clusterStatus()).nodes.filter((n) => n.alive);
    const capacity = nodes.reduce((s, n) => s + (n.usage?.objectStoreCapacityBytes ?? 0), 0);
    this.cpus = Math.max(1, Math.floor(nodes.reduce((s, n) => s + (n.total.CPU ?? 0), 0)));
    this.budgetBytes = this.options.memoryBudgetBytes ?? (capacity > 0 ? Math.floor(capacity / 2) : FALLBACK_BUDGET_BYTES);
    return { budget: this.budgetBytes, cpus: this.cpus };
  }

  /** The memory budget once an action has computed it. */
  budgetKnown(): number | undefined {
    return this.budgetBytes;
  }

  /** The largest in-flight bytes of any stage run so far. */
  peakInFlightBytes(): number {
    return this.stages.reduce((m, s) => Math.max(m, s.peakInFlightBytes), 0);
  }

  /** Frees partitions no later stage reads (cached ones excepted). */
  release(refs: readonly ObjectRef[] | undefined): void {
    if (refs === undefined) return;
    const ids = refs.filter((r) => !this.keep.has(r.id));
    if (ids.length > 0) free(ids);
  }

  /** Marks partitions as owned by a cache: they outlive the action. */
  keepAlive(refs: readonly ObjectRef[]): void {
    for (const r of refs) this.keep.add(r.id);
  }

  private async newRun(label: string, total: number): Promise<StageRun> {
    const { budget, cpus } = await this.cluster();
    const run = new StageRun(label, budget, cpus);
    this.stages.push(run.stats);
    this.progress.startStage(label, total);
    return run;
  }

  /** Size of a finished partition (measured on a worker from its Arrow buffers). */
  private measure(ref: ObjectRef): Promise<PartitionSize> {
    const hit = this.sizes.get(ref.id);
    if (hit !== undefined) return Promise.resolve(hit);
    return get(partitionSizeTask.remote(ref as ObjectRef<arrow.Table>)).then((s) => {
      this.sizes.set(ref.id, s);
      if (s.notes !== undefined && !this.events.includes(s.notes)) this.events.push(s.notes);
      return s;
    });
  }

  /**
   * Submits every partition of `stage` under backpressure (task count and memory budget); resolves
   * when all finished, with their refs in order. `onDone(i)` runs as partition i finishes.
   */
  async materialize(stage: Stage, onDone?: (i: number) => void): Promise<TableRef[]> {
    const n = stage.numPartitions;
    const refs: TableRef[] = new Array<TableRef>(n);
    const run = await this.newRun(stage.label, n);
    const index = new Map<string, number>();
    let next = 0;
    let inFlight: TableRef[] = [];
    const measuring: Promise<void>[] = [];
    const unmeasured = new Set<Promise<void>>();
    try {
      while (next < n || inFlight.length > 0) {
        while (next < n && inFlight.length < this.options.maxTasksInFlight && run.admits()) {
          const r = stage.submit(next);
          index.set(r.id, next);
          run.started_(next);
          refs[next++] = r;
          inFlight.push(r);
        }
        if (inFlight.length === 0) {
          // Every submitted task finished but the budget waits for their sizes.
          await Promise.race(unmeasured);
          continue;
        }
        const { ready, notReady } = await wait(inFlight, { numReturns: 1 });
        inFlight = notReady;
        for (const r of ready) {
          const i = index.get(r.id)!;
          // The partition counts against the budget until its size is known.
          const m: Promise<void> = this.measure(r).then(
            (size) => {
              run.measured(i, size);
              run.released(i);
              this.progress.partitionDone(size.rows);
            },
            () => {
              run.released(i);
              this.progress.partitionDone();
            },
          );
          unmeasured.add(m);
          void m.then(() => unmeasured.delete(m));
          measuring.push(m);
          onDone?.(i);
        }
      }
      // A failed task's error surfaces where its partition is read (its size task fails quietly here).
      await Promise.all(measuring);
    } finally {
      await stage.cleanup?.();
    }
    this.release(stage.consumes);
    return refs;
  }

  /**
   * Runs `stage` and yields its partitions in order as they finish, with at most `window` partitions
   * submitted ahead of the consumer and their bytes within the memory budget. A partition is freed
   * when the consumer asks for the next one (unless it belongs to a cache).
   */
  async *stream(stage: Stage, window: number): AsyncGenerator<TableRef, void, undefined> {
    const n = stage.numPartitions;
    const run = await this.newRun(stage.label, n);
    const refs: (TableRef | undefined)[] = new Array<TableRef | undefined>(n);
    const sizes: (Promise<PartitionSize> | undefined)[] = new Array<Promise<PartitionSize> | undefined>(n);
    let next = 0;
    try {
      for (let i = 0; i < n; i++) {
        while (next < n && next - i < window && run.admits()) {
          const r = stage.submit(next);
          const k = next++;
          run.started_(k);
          refs[k] = r;
          sizes[k] = this.measure(r).then((s) => {
            run.measured(k, s);
            return s;
          });
          // A failed partition is reported when the consumer reaches it.
          sizes[k].catch(() => undefined);
        }
        const size = await sizes[i]!.catch(async (err: unknown) => {
          await get(refs[i]!); // rethrows the task's own error
          throw err;
        });
        this.progress.partitionDone(size.rows);
        yield refs[i]!;
        this.release([refs[i]!]);
        refs[i] = undefined;
        run.released(i);
      }
    } finally {
      await stage.cleanup?.();
      // Partitions computed ahead of a consumer that stopped early, then what the stage read.
      this.release(refs.filter((r): r is TableRef => r !== undefined));
      this.release(stage.consumes);
    }
  }
  async partitions(node: PlanNode): Promise<TableRef[]> {
    return this.materialize(await this.build(node));
  }

  private fixed(label: string, refs: TableRef[]): Stage {
    return { label, numPartitions: refs.length, submit: (i) => refs[i]! };
  }

  private shuffleCount(inputs: number): number {
    return this.options.shufflePartitions ?? Math.max(1, Math.min(inputs, MAX_SHUFFLE_PARTITIONS));
  }

  /**
   * Map side of a shuffle over the partitions of `input` (fused into the input's own tasks when the
   * stage allows it), then a lazy reduce stage of `n` buckets.
   */
  private async shuffleStage(label: string, input: Stage, map: ShuffleMap, reduce: ShuffleReduce, n: number): Promise<Stage> {
    return this.reduceStage(label, reduce, n, await this.mapSide(label, input, map, n));
  }

  /** The map side of a shuffle over `input`'s partitions, fused into its tasks when it allows it: one array of `n` buckets per partition. */
  private async mapSide(label: string, input: Stage, map: ShuffleMap, n: number): Promise<ObjectRef<arrow.Table[]>[]> {
    const fuse = input.fuse;
    if (fuse === undefined) {
      const refs = await this.materialize(input);
      return (await this.materialize({
        label: `${label} (map)`,
        numPartitions: refs.length,
        submit: (i) => shuffleMapTask.remote(refs[i]!, map, n, null) as unknown as TableRef,
        consumes: refs,
      })) as unknown as ObjectRef<arrow.Table[]>[];
    }
    const out: FusedOutput = { kind: 'shuffleMap', map, n };
    const maps = await this.materialize({
      label: `${input.label} + ${label} (map)`,
      numPartitions: input.numPartitions,
      submit: (i) => fuse(i, out, []) as unknown as TableRef,
      ...(input.cleanup !== undefined ? { cleanup: input.cleanup } : {}),
      ...(input.consumes !== undefined ? { consumes: input.consumes } : {}),
    });
    return maps as unknown as ObjectRef<arrow.Table[]>[];
  }

  private reduceStage(label: string, reduce: ShuffleReduce, n: number, mapRefs: ObjectRef<arrow.Table[]>[]): Stage {
    return {
      label: `${label} (reduce)`,
      numPartitions: n,
      submit: (b) => shuffleReduceTask.remote(reduce, b, ...mapRefs),
      fuse: (b, out, extra) => shuffleReduceFusedTask.remote(reduce, out, b, mapRefs.length, ...mapRefs, ...extra),
      consumes: mapRefs,
    };
  }

  /** Row count of every partition of `node`, fused into the partition tasks when the last stage allows it. */
  async partitionRowCounts(node: PlanNode): Promise<number[]> {
    const stage = await this.build(node);
    const fuse = stage.fuse;
    if (fuse === undefined) return this.rowCounts(await this.materialize(stage));
    // Counts come back with get() a window at a time: a run of wait() calls on small (directly
    // delivered) results can stall (seen with long Parquet read tasks; see the report of issue 4).
    const n = stage.numPartitions;
    const counts: number[] = [];
    const run = await this.newRun(`${stage.label} + count`, n);
    try {
      for (let start = 0; start < n; start += this.options.maxTasksInFlight) {
        const window: ObjectRef<number>[] = [];
        for (let i = start; i < Math.min(n, start + this.options.maxTasksInFlight); i++) {
          window.push(fuse(i, { kind: 'count' }, []) as ObjectRef<number>);
          run.started_(i);
        }
        const got = await get(window);
        got.forEach((c, k) => {
          run.measured(start + k, { rows: c, bytes: 0 });
          run.released(start + k);
          this.progress.partitionDone(c);
        });
        counts.push(...got);
      }
    } finally {
      await stage.cleanup?.();
    }
    this.release(stage.consumes);
    return counts;
  }

  /** Map side of a shuffle over `input`, then a lazy reduce stage of `n` buckets. */
  private async shuffle(label: string, input: TableRef[], map: ShuffleMap, reduce: ShuffleReduce, n: number, boundaries: arrow.Table | null = null): Promise<Stage> {
    const maps = await this.materialize({
      label: `${label} (map)`,
      numPartitions: input.length,
      submit: (i) => shuffleMapTask.remote(input[i]!, map, n, boundaries) as unknown as TableRef,
      consumes: input,
    });
    const mapRefs = maps as unknown as ObjectRef<arrow.Table[]>[];
    return this.reduceStage(label, reduce, n, mapRefs);
  }

  /** Rows of each partition (measured sizes when known, else one size task each). */
  private async rowCounts(refs: TableRef[]): Promise<number[]> {
    return (await Promise.all(refs.map((r) => this.measure(r)))).map((s) => s.rows);
  }

  async build(node: PlanNode): Promise<Stage> {
    switch (node.kind) {
      case 'scan':
        return this.scan(node);
      case 'map': {
        const input = await this.partitions(node.input);
        const ops = [...node.ops];
        return {
          label: 'map',
          numPartitions: input.length,
          submit: (i) => mapTask.remote(input[i]!, ops, i),
          fuse: (i, out, extra) => mapFusedTask.remote(input[i]!, ops, i, out, ...extra),
          consumes: input,
        };
      }
      case 'mapBatches':
        return this.mapBatches(node);
      case 'cache': {
        // Computed by the first action that reaches it; later actions reuse the partitions.
        if (node.state.refs === null) {
          const refs = await this.partitions(node.input);
          this.keepAlive(refs);
          node.state.refs = refs;
        }
        this.keepAlive(node.state.refs);
        return this.fixed('cache', node.state.refs);
      }
      case 'limit':
        return this.limit(node);
      case 'union': {
        const all: TableRef[] = [];
        for (const i of node.inputs) all.push(...(await this.partitions(i)));
        return this.fixed('union', all);
      }
      case 'repartition': {
        const input = await this.build(node.input);
        const map: ShuffleMap = node.columns ? { kind: 'hash', columns: [...node.columns] } : { kind: 'roundRobin' };
        return this.shuffleStage('repartition', input, map, { kind: 'concat' }, node.n);
      }
      case 'distinct': {
        const input = await this.build(node.input);
        const columns = node.columns ? [...node.columns] : null;
        return this.shuffleStage('distinct', input, { kind: 'distinct', columns }, { kind: 'distinct', columns }, this.shuffleCount(input.numPartitions));
      }
      case 'aggregate': {
        const input = await this.build(node.input);
        const spec = { keys: [...node.keys], aggs: [...node.aggs] };
        const n = node.keys.length === 0 ? 1 : this.shuffleCount(input.numPartitions);
        return this.shuffleStage('aggregate', input, { kind: 'aggregate', ...spec }, { kind: 'aggregate', ...spec }, n);
      }
      case 'window': {
        // One shuffle for every window column of the node; without partition keys, one partition.
        const input = await this.build(node.input);
        const keyed = node.partitionBy.length > 0;
        const map: ShuffleMap = keyed ? { kind: 'hash', columns: [...node.partitionBy] } : { kind: 'roundRobin' };
        const reduce: ShuffleReduce = { kind: 'window', partitionBy: [...node.partitionBy], columns: [...node.columns] };
        return this.shuffleStage('window', input, map, reduce, keyed ? this.shuffleCount(input.numPartitions) : 1);
      }
      case 'sort': {
        const input = await this.partitions(node.input);
        const keys = [...node.keys];
        const n = input.length;
        const samples = await get(input.map((r) => sortSampleTask.remote(r, keys, SORT_SAMPLE_ROWS)));
        const all = sortTable(concatTables(samples), keys);
        const picks: number[] = [];
        if (all.numRows > 0) for (let k = 1; k < n; k++) picks.push(Math.min(all.numRows - 1, Math.floor((k * all.numRows) / n)));
        const boundaries = takeTable(all, Int32Array.from(picks));
        return this.shuffle('sort', input, { kind: 'range', keys }, { kind: 'sort', keys }, boundaries.numRows + 1, boundaries);
      }
      case 'join':
        return this.join(node);
      case 'source':
      case 'narrow':
        throw new Error(`internal: unoptimized ${node.kind} node reached the executor`);
    }
  }

  /**
   * mapBatches: the user's function on every partition, or (with batchSize) on batches of exactly
   * batchSize rows in dataset order (the last may be shorter). Extra arguments go to the object store
   * once per action and reach every task as refs, resolved on the worker.
   */
  private async mapBatches(node: Extract<PlanNode, { kind: 'mapBatches' }>): Promise<Stage> {
    const input = await this.partitions(node.input);
    const args = node.args.map((a) => (a instanceof ObjectRef ? a : put(a)));
    const label = `mapBatches(${node.fn.name})`;
    if (node.batchSize === null) return { label, numPartitions: input.length, submit: (i) => node.fn.remote(input[i]!, ...args), consumes: input };
    const batches = planBatches(await this.rowCounts(input), node.batchSize);
    if (batches.length === 0) return { label, numPartitions: 1, submit: () => node.fn.remote(input[0]!, ...args), consumes: input };
    return {
      label: `${label} (batches of ${node.batchSize} rows)`,
      numPartitions: batches.length,
      submit: (j) => {
        const pieces = batches[j]!;
        const whole = pieces.length === 1 && pieces[0]!.start === 0 && pieces[0]!.end === this.sizes.get(input[pieces[0]!.partition]!.id)?.rows;
        const batch = whole
          ? input[pieces[0]!.partition]!
          : batchSliceTask.remote(
              pieces.map((p) => ({ start: p.start, end: p.end })),
              ...pieces.map((p) => input[p.partition]!),
            );
        return node.fn.remote(batch, ...args);
      },
      consumes: input,
    };
  }

  /**
   * Limit: submits the input's partitions in order, a window at a time, and stops once `n` rows are
   * covered — `take(5)` over a thousand files reads only the first ones.
   */
  private async limit(node: Extract<PlanNode, { kind: 'limit' }>): Promise<Stage> {
    const child = await this.build(node.input);
    const input: TableRef[] = [];
    const counts: number[] = [];
    let total = 0;
    this.progress.startStage(`${child.label} (limit ${node.n})`, child.numPartitions);
    try {
      while (input.length < child.numPartitions && (total < node.n || input.length === 0)) {
        const window: TableRef[] = [];
        for (let i = input.length; i < child.numPartitions && window.length < this.options.maxTasksInFlight; i++) window.push(child.submit(i));
        const c = await this.rowCounts(window);
        input.push(...window);
        counts.push(...c);
        total += c.reduce((a, b) => a + b, 0);
        for (let k = 0; k < window.length; k++) this.progress.partitionDone();
      }
    } finally {
      await child.cleanup?.();
    }
    if (input.length < child.numPartitions) this.events.push(`limit ${node.n}: read ${input.length} of ${child.numPartitions} partitions`);
    const slices: { i: number; k: number }[] = [];
    let left = node.n;
    counts.forEach((c, i) => {
      if (left <= 0) return;
      const k = Math.min(c, left);
      if (k > 0) slices.push({ i, k });
      left -= k;
    });
    if (slices.length === 0) return { label: 'limit', numPartitions: 1, submit: () => sliceTask.remote(input[0]!, 0, 0) };
    return {
      label: 'limit',
      numPartitions: slices.length,
      submit: (j) => (slices[j]!.k === counts[slices[j]!.i] ? input[slices[j]!.i]! : sliceTask.remote(input[slices[j]!.i]!, 0, slices[j]!.k)),
    };
  }

  /**
   * A join. Both sides are hash-partitioned by their keys in their own tasks (the map side fused into
   * them), one side first when it may be broadcast: when its buckets measure at most
   * `broadcastThresholdBytes` of Arrow buffers, they all go to every task of the other side, which
   * joins in its own tasks and is never shuffled. Otherwise bucket b of the left joins bucket b of
   * the right. Only a right side is broadcast for inner, left, semi and anti joins, only a left side
   * for inner and right joins; for inner joins the side with fewer rows known from the sources'
   * metadata goes first (the right when unknown).
   */
  private async join(node: Extract<PlanNode, { kind: 'join' }>): Promise<Stage> {
    const [left, right] = await Promise.all([this.build(node.left), this.build(node.right)]);
    const spec = { on: node.on, how: node.how };
    const keys = joinKeys(node.on);
    const n = this.shuffleCount(Math.max(left.numPartitions, right.numPartitions));
    const threshold = this.options.broadcastThresholdBytes;
    const canRight = threshold > 0 && ['inner', 'left', 'semi', 'anti'].includes(node.how);
    const canLeft = threshold > 0 && ['inner', 'right'].includes(node.how);
    const mapOf = (isLeft: boolean): Promise<ObjectRef<arrow.Table[]>[]> =>
      this.mapSide(`join ${isLeft ? 'left' : 'right'}`, isLeft ? left : right, { kind: 'hash', columns: [...(isLeft ? keys.left : keys.right)] }, n);
    let lm: ObjectRef<arrow.Table[]>[];
    let rm: ObjectRef<arrow.Table[]>[];
    if (!canLeft && !canRight) [lm, rm] = await Promise.all([mapOf(true), mapOf(false)]);
    else {
      let firstIsLeft = !canRight;
      if (canLeft && canRight) {
        const [le, re] = await Promise.all([estimatedRows(node.left), estimatedRows(node.right)]);
        firstIsLeft = le !== undefined && re !== undefined && le < re;
      }
      const first = await mapOf(firstIsLeft);
      const size = await this.sizeOf(first);
      if (size.bytes <= threshold) {
        this.events.push(`join ${node.how}: broadcast ${firstIsLeft ? 'left' : 'right'} side (${size.rows} rows, ${size.bytes} bytes)`);
        return this.broadcastJoin(node.how, firstIsLeft ? right : left, first, { ...spec, bigIsLeft: !firstIsLeft });
      }
      const other = await mapOf(!firstIsLeft);
      [lm, rm] = firstIsLeft ? [first, other] : [other, first];
    }
    const [ls, rs] = await Promise.all([this.sizeOf(lm), this.sizeOf(rm)]);
    this.events.push(`join ${node.how}: shuffle hash into ${n} partitions (${ls.rows} × ${rs.rows} rows)`);
    const maps = [...lm, ...rm];
    return {
      label: `join ${node.how} (shuffle)`,
      numPartitions: n,
      submit: (b) => shuffleJoinFusedTask.remote(spec, { kind: 'table' }, b, lm.length, rm.length, ...maps) as unknown as TableRef,
      fuse: (b, out, extra) => shuffleJoinFusedTask.remote(spec, out, b, lm.length, rm.length, ...maps, ...extra),
      consumes: maps,
    };
  }

  /** The big side's tasks, each joined with every bucket of the small side (fused into them when the stage allows it). */
  private async broadcastJoin(how: JoinType, big: Stage, small: ObjectRef<arrow.Table[]>[], spec: JoinSpec & { bigIsLeft: boolean }): Promise<Stage> {
    const step = (then: FusedOutput): FusedOutput => ({ kind: 'broadcastJoin', spec: { on: spec.on, how: spec.how }, bigIsLeft: spec.bigIsLeft, smallCount: small.length, then });
    const label = `join ${how} (broadcast)`;
    const fuse = big.fuse;
    if (fuse !== undefined) {
      return {
        label: `${big.label} + ${label}`,
        numPartitions: big.numPartitions,
        submit: (i) => fuse(i, step({ kind: 'table' }), small) as unknown as TableRef,
        fuse: (i, out, extra) => fuse(i, step(out), [...small, ...extra]),
        ...(big.cleanup !== undefined ? { cleanup: big.cleanup } : {}),
        consumes: [...(big.consumes ?? []), ...small],
      };
    }
    const refs = await this.materialize(big);
    return {
      label,
      numPartitions: refs.length,
      submit: (i) => broadcastJoinFusedTask.remote(step({ kind: 'table' }), refs[i]!, ...small) as unknown as TableRef,
      fuse: (i, out, extra) => broadcastJoinFusedTask.remote(step(out), refs[i]!, ...small, ...extra),
      consumes: [...refs, ...small],
    };
  }

  /** Rows and Arrow bytes of finished partitions (measured as they finished). */
  private async sizeOf(refs: readonly ObjectRef[]): Promise<PartitionSize> {
    const sizes = await Promise.all(refs.map((r) => this.measure(r)));
    return { rows: sizes.reduce((s, x) => s + x.rows, 0), bytes: sizes.reduce((s, x) => s + x.bytes, 0) };
  }

  private async scan(node: Extract<PlanNode, { kind: 'scan' }>): Promise<Stage> {
    const resolved = await resolveSource(node.source);
    const ops = [...node.ops];
    const columns = node.columns ? [...node.columns] : null;
    const label = `scan ${node.source.type}`;
    if (resolved.tables !== undefined) {
      // Put per action (not cached on the source): a ref must not outlive the cluster it was made in.
      const base = resolved.tables.map((t) => put(t));
      if (ops.length === 0) return this.fixed(label, base);
      return { label, numPartitions: base.length, submit: (i) => mapTask.remote(base[i]!, ops, i), fuse: (i, out, extra) => mapFusedTask.remote(base[i]!, ops, i, out, ...extra), consumes: base };
    }
    if (resolved.postgres !== undefined) {
      const where = postgresWhere(node.pushed, resolved.schema);
      if (where.sql !== undefined) this.events.push(`postgres: pushed WHERE ${where.sql}`);
      const opts = withPushedWhere(resolved.postgres, where.sql);
      const queries = pgPartitionQueries({ ...opts, ...(columns ? { columns } : {}) });
      const client = await connectPostgres(opts.url);
      let snapshot;
      try {
        snapshot = await exportSnapshot(client);
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
      const snap = snapshot;
      const fetchSize = opts.fetchSize ?? 10_000;
      return {
        label: `${label} (${queries.length} partitions, snapshot ${snap.snapshotId})`,
        numPartitions: queries.length,
        submit: (i) => readTask.remote({ type: 'postgres', url: opts.url, sql: queries[i]!, fetchSize, snapshot: snap.snapshotId }, null, false, null, ops, i),
        fuse: (i, out, extra) => readFusedTask.remote({ type: 'postgres', url: opts.url, sql: queries[i]!, fetchSize, snapshot: snap.snapshotId }, null, false, null, ops, i, out, ...extra),
        cleanup: async () => {
          await snap.release().catch(() => undefined);
          await client.end().catch(() => undefined);
        },
      };
    }
    const parts = resolved.partitions.filter((p) => !canSkipPartition(p, node.pushed, resolved.schema));
    if (parts.length < resolved.partitions.length) this.events.push(`${label}: skipped ${resolved.partitions.length - parts.length} of ${resolved.partitions.length} partitions by pushed filters`);
    if (parts.length === 0) {
      const empty = put(emptyTable(await schemaOf(node)));
      return this.fixed(label, [empty]);
    }
    const template = resolved.template;
    return {
      label,
      numPartitions: parts.length,
      submit: (i) => readTask.remote(parts[i]!.spec as ReadSpec, template, resolved.mergeSchema, columns, ops, i),
      fuse: (i, out, extra) => readFusedTask.remote(parts[i]!.spec as ReadSpec, template, resolved.mergeSchema, columns, ops, i, out, ...extra),
    };
  }
}

/**
 * Rows `node` produces when the sources' metadata tells (Arrow tables, range, Parquet footers) and no
 * operator on the way changes the row count; else undefined. Used only to order work.
 */
async function estimatedRows(node: PlanNode): Promise<number | undefined> {
  const rowPreserving = (ops: readonly { op: string }[]): boolean => ops.every((o) => o.op !== 'filter' && o.op !== 'sample' && o.op !== 'explode');
  if (node.kind === 'map') return rowPreserving(node.ops) ? estimatedRows(node.input) : undefined;
  if (node.kind !== 'scan' || !rowPreserving(node.ops) || !['arrow', 'range', 'parquet'].includes(node.source.type)) return undefined;
  const resolved = await resolveSource(node.source);
  return resolved.partitions.every((p) => p.rows !== undefined) ? resolved.partitions.reduce((s, p) => s + (p.rows ?? 0), 0) : undefined;
}
