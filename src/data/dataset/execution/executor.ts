/**
 * Turns a physical plan into stages of partition tasks and runs them. Every intermediate partition
 * stays in the object store as an ObjectRef (the driver only fetches row counts, sort samples and
 * final results). Each stage submits at most `maxTasksInFlight` tasks and submits the next one when
 * `wait` reports one done (backpressure). Every stage has at least one partition.
 */
import type * as arrow from 'apache-arrow';
import { get, put, wait, type ObjectRef } from '../../../core/index.js';
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
  broadcastJoinFusedTask, broadcastJoinTask, mapFusedTask, mapTask, readFusedTask, readTask, shuffleJoinFusedTask, shuffleReduceFusedTask, rowCountTask, shuffleJoinTask, shuffleMapTask, shuffleReduceTask, sliceTask, sortSampleTask,
} from './partition-tasks.js';
import type { Progress } from './progress.js';
import type { FusedOutput, ShuffleMap, ShuffleReduce } from './shuffle-kernels.js';

type TableRef = ObjectRef<arrow.Table>;

/** A stage not yet submitted: partition i's task is made by `submit(i)`. */
export interface Stage {
  readonly label: string;
  readonly numPartitions: number;
  submit(i: number): TableRef;
  /** Runs once every partition task of the stage has finished (e.g. releases a PostgreSQL snapshot). */
  cleanup?: () => Promise<void>;
  /**
   * Partition i's task fused with what consumes its table (the map side of a shuffle, or a row
   * count), so the table itself is never written to the object store. Absent when the stage cannot fuse.
   */
  fuse?: (i: number, out: FusedOutput) => ObjectRef<arrow.Table[] | number>;
}

const MAX_SHUFFLE_PARTITIONS = 64;
const SORT_SAMPLE_ROWS = 200;

export class Executor {
  /** What the executor decided (join strategies, pruned partitions), for explain and tests. */
  readonly events: string[] = [];

  constructor(
    readonly options: CompiledExecutionOptions,
    readonly progress: Progress,
  ) {}

  /** Submits every partition of `stage`, at most maxTasksInFlight at a time; resolves when all finished. */
  async materialize(stage: Stage): Promise<TableRef[]> {
    const n = stage.numPartitions;
    const refs: TableRef[] = new Array<TableRef>(n);
    this.progress.startStage(stage.label, n);
    let next = 0;
    let inFlight: TableRef[] = [];
    const counting: Promise<void>[] = [];
    try {
      while (next < n || inFlight.length > 0) {
        while (next < n && inFlight.length < this.options.maxTasksInFlight) {
          const r = stage.submit(next);
          refs[next++] = r;
          inFlight.push(r);
        }
        const { ready, notReady } = await wait(inFlight, { numReturns: 1 });
        inFlight = notReady;
        for (const r of ready) {
          if (!this.options.progress) {
            this.progress.partitionDone();
            continue;
          }
          // Only with the progress line on: one tiny task per partition to count its rows.
          counting.push(
            get(rowCountTask.remote(r)).then(
              (rows) => this.progress.partitionDone(rows),
              () => this.progress.partitionDone(),
            ),
          );
        }
      }
      await Promise.all(counting);
    } finally {
      await stage.cleanup?.();
    }
    return refs;
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
    const fuse = input.fuse;
    if (fuse === undefined) return this.shuffle(label, await this.materialize(input), map, reduce, n);
    const out: FusedOutput = { kind: 'shuffleMap', map, n };
    const maps = await this.materialize({
      label: `${input.label} + ${label} (map)`,
      numPartitions: input.numPartitions,
      submit: (i) => fuse(i, out) as unknown as TableRef,
      ...(input.cleanup !== undefined ? { cleanup: input.cleanup } : {}),
    });
    const mapRefs = maps as unknown as ObjectRef<arrow.Table[]>[];
    return this.reduceStage(label, reduce, n, mapRefs);
  }

  private reduceStage(label: string, reduce: ShuffleReduce, n: number, mapRefs: ObjectRef<arrow.Table[]>[]): Stage {
    return {
      label: `${label} (reduce)`,
      numPartitions: n,
      submit: (b) => shuffleReduceTask.remote(reduce, b, ...mapRefs),
      fuse: (b, out) => shuffleReduceFusedTask.remote(reduce, out, b, ...mapRefs),
    };
  }

  /** Row count of every partition of `node`, fused into the partition tasks when the last stage allows it. */
  async partitionRowCounts(node: PlanNode): Promise<number[]> {
    const stage = await this.build(node);
    const fuse = stage.fuse;
    if (fuse === undefined) return get((await this.materialize(stage)).map((r) => rowCountTask.remote(r)));
    // Counts come back with get() a window at a time: a run of wait() calls on small (directly
    // delivered) results can stall (seen with long Parquet read tasks; see the report of issue 4).
    const n = stage.numPartitions;
    const counts: number[] = [];
    this.progress.startStage(`${stage.label} + count`, n);
    try {
      for (let start = 0; start < n; start += this.options.maxTasksInFlight) {
        const window: ObjectRef<number>[] = [];
        for (let i = start; i < Math.min(n, start + this.options.maxTasksInFlight); i++) window.push(fuse(i, { kind: 'count' }) as ObjectRef<number>);
        const got = await get(window);
        for (const c of got) this.progress.partitionDone(c);
        counts.push(...got);
      }
    } finally {
      await stage.cleanup?.();
    }
    return counts;
  }

  /** Map side of a shuffle over `input`, then a lazy reduce stage of `n` buckets. */
  private async shuffle(label: string, input: TableRef[], map: ShuffleMap, reduce: ShuffleReduce, n: number, boundaries: arrow.Table | null = null): Promise<Stage> {
    const maps = await this.materialize({
      label: `${label} (map)`,
      numPartitions: input.length,
      submit: (i) => shuffleMapTask.remote(input[i]!, map, n, boundaries) as unknown as TableRef,
    });
    const mapRefs = maps as unknown as ObjectRef<arrow.Table[]>[];
    return this.reduceStage(label, reduce, n, mapRefs);
  }

  private async rowCounts(refs: TableRef[]): Promise<number[]> {
    return get(refs.map((r) => rowCountTask.remote(r)));
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
          fuse: (i, out) => mapFusedTask.remote(input[i]!, ops, i, out),
        };
      }
      case 'mapBatches': {
        const input = await this.partitions(node.input);
        return { label: `mapBatches(${node.fn.name})`, numPartitions: input.length, submit: (i) => node.fn.remote(input[i]!) };
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

  private async join(node: Extract<PlanNode, { kind: 'join' }>): Promise<Stage> {
    const [left, right] = await Promise.all([this.partitions(node.left), this.partitions(node.right)]);
    const [lc, rc] = await Promise.all([this.rowCounts(left), this.rowCounts(right)]);
    const lRows = lc.reduce((a, b) => a + b, 0);
    const rRows = rc.reduce((a, b) => a + b, 0);
    const t = this.options.broadcastThresholdRows;
    const spec = { on: node.on, how: node.how };
    let bigIsLeft: boolean | undefined;
    if (['inner', 'left', 'semi', 'anti'].includes(node.how) && rRows <= t) bigIsLeft = true;
    else if ((node.how === 'inner' || node.how === 'right') && lRows <= t) bigIsLeft = false;
    if (bigIsLeft !== undefined) {
      const big = bigIsLeft ? left : right;
      const small = bigIsLeft ? right : left;
      this.events.push(`join ${node.how}: broadcast ${bigIsLeft ? 'right' : 'left'} side (${bigIsLeft ? rRows : lRows} rows)`);
      return {
        label: `join ${node.how} (broadcast)`,
        numPartitions: big.length,
        submit: (i) => broadcastJoinTask.remote(spec, bigIsLeft, big[i]!, ...small),
        fuse: (i, out) => broadcastJoinFusedTask.remote(spec, out, bigIsLeft, big[i]!, ...small),
      };
    }
    const on = node.on;
    const leftKeys = typeof on === 'string' ? [on] : Array.isArray(on) ? [...(on as readonly string[])] : [...(on as { left: readonly string[] }).left];
    const rightKeys = typeof on === 'string' ? [on] : Array.isArray(on) ? [...(on as readonly string[])] : [...(on as { right: readonly string[] }).right];
    const n = this.shuffleCount(Math.max(left.length, right.length));
    this.events.push(`join ${node.how}: shuffle hash into ${n} partitions (${lRows} × ${rRows} rows)`);
    const [lm, rm] = await Promise.all([
      this.materialize({ label: 'join left (map)', numPartitions: left.length, submit: (i) => shuffleMapTask.remote(left[i]!, { kind: 'hash', columns: leftKeys }, n, null) as unknown as TableRef }),
      this.materialize({ label: 'join right (map)', numPartitions: right.length, submit: (i) => shuffleMapTask.remote(right[i]!, { kind: 'hash', columns: rightKeys }, n, null) as unknown as TableRef }),
    ]);
    const maps = [...lm, ...rm] as unknown as ObjectRef<arrow.Table[]>[];
    return {
      label: `join ${node.how} (shuffle)`,
      numPartitions: n,
      submit: (b) => shuffleJoinTask.remote(spec, b, lm.length, ...maps),
      fuse: (b, out) => shuffleJoinFusedTask.remote(spec, out, b, lm.length, ...maps),
    };
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
      return { label, numPartitions: base.length, submit: (i) => mapTask.remote(base[i]!, ops, i), fuse: (i, out) => mapFusedTask.remote(base[i]!, ops, i, out) };
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
        fuse: (i, out) => readFusedTask.remote({ type: 'postgres', url: opts.url, sql: queries[i]!, fetchSize, snapshot: snap.snapshotId }, null, false, null, ops, i, out),
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
      fuse: (i, out) => readFusedTask.remote(parts[i]!.spec as ReadSpec, template, resolved.mergeSchema, columns, ops, i, out),
    };
  }
}
