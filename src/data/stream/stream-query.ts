/**
 * A streaming query in the style of Spark Structured Streaming: `readStream(source)` → `map` /
 * `filter` / `withWatermark` / `windowedCount`... → `writeStream(sink)`, run in micro-batches. Each
 * batch: poll the source, run the transforms, write the result rows and the checkpoint (last
 * offset, watermark) to the sink in one atomic step, then `commit` the offset to the source. On
 * start the query reads the sink's checkpoint and opens the source after it — so a query killed
 * anywhere and restarted applies every record exactly once (see stream-sink.ts).
 *
 * Windowed aggregates emit per-batch partial results keyed by (group, window start) — update mode —
 * meant for a sink that adds them up (`PostgresUpsertSink` with `onConflict: 'add'`): the
 * aggregation state lives in the sink, inside the same transaction as the offset, so it needs no
 * state store of its own. The watermark (max event time seen − delay) is checkpointed with the
 * offset; records older than it are dropped as late and counted.
 */
import { optionRules } from '../../core/index.js';
import { StreamQueryError } from '../errors.js';
import type { StreamCheckpoint, StreamSink } from './stream-sink.js';
import type { StreamRecord, StreamSource } from './stream-source.js';

type Row = Record<string, unknown>;

/** One step of a streaming plan, on a batch of records of one type. */
type Op =
  | { kind: 'map'; fn: (value: Row, record: StreamRecord<Row>) => Row }
  | { kind: 'filter'; fn: (value: Row, record: StreamRecord<Row>) => boolean }
  | { kind: 'watermark'; eventTimeMs: (value: Row, record: StreamRecord<Row>) => number; delayMs: number }
  | { kind: 'window'; spec: WindowedAggregate };

/** A tumbling-window aggregate by group (see {@link StreamFrame.windowedAggregate}). */
export interface WindowedAggregate {
  /** Group columns of the value (their values key the output rows). */
  groupBy: readonly string[];
  /** Window length. */
  windowMs: number;
  /** Output column of the record count. @default 'count' */
  countAs?: string;
  /** Summed value columns: output column → input column. @default none */
  sums?: Readonly<Record<string, string>>;
}

/** Options of {@link StreamFrame.writeStream}. */
export interface WriteStreamOptions {
  /** Name of the query: its checkpoint in the sink is stored under it. */
  queryName: string;
  /** Records per micro-batch at most (a source may exceed it to keep a transaction whole). @default 1000 */
  maxBatchRecords?: number;
  /** How long a batch waits for its first record. @default 200 */
  triggerMs?: number;
  /** Called after each batch is written and committed (for progress and tests). */
  onBatch?: ((info: BatchInfo) => void) | undefined;
}

/** What one micro-batch did. */
export interface BatchInfo {
  batchId: number;
  records: number;
  rowsWritten: number;
  lateDropped: number;
  offset: string;
  watermarkMs: number | undefined;
  durationMs: number;
}

/** A running streaming query. */
export interface StreamingQuery {
  readonly name: string;
  /** Records read, rows written, late records dropped, batches. */
  readonly progress: { records: number; rowsWritten: number; lateDropped: number; batches: number };
  /** Resolves when the query stopped (rejects with the error that stopped it). */
  readonly done: Promise<void>;
  /** Stops after the batch in flight, closes the source and the sink. */
  stop(): Promise<void>;
}

/** An unbounded table being defined over a source (nothing runs until `writeStream`). */
export class StreamFrame {
  constructor(
    readonly source: StreamSource,
    private readonly ops: readonly Op[] = [],
  ) {}

  /** Transforms each value. */
  map(fn: (value: Row, record: StreamRecord<Row>) => Row): StreamFrame {
    return new StreamFrame(this.source, [...this.ops, { kind: 'map', fn }]);
  }

  /** Keeps the values `fn` accepts. */
  filter(fn: (value: Row, record: StreamRecord<Row>) => boolean): StreamFrame {
    return new StreamFrame(this.source, [...this.ops, { kind: 'filter', fn }]);
  }

  /**
   * Event time and lateness: `eventTime` is a value column (ms, a Date or an ISO string) or a
   * function; records older than (max event time seen − `delayMs`) are dropped as late.
   */
  withWatermark(eventTime: string | ((value: Row, record: StreamRecord<Row>) => number), delayMs: number): StreamFrame {
    const r = optionRules('withWatermark()');
    const delay = r.int('delayMs', delayMs, 0, { min: 0 });
    if (typeof eventTime !== 'function' && (typeof eventTime !== 'string' || eventTime.length === 0)) r.fail('eventTime', 'must be a column name or a function', eventTime);
    const fn = typeof eventTime === 'function' ? eventTime : (v: Row): number => toMs(v[eventTime], eventTime);
    return new StreamFrame(this.source, [...this.ops, { kind: 'watermark', eventTimeMs: fn, delayMs: delay }]);
  }

  /**
   * Count (and sums) per group and tumbling event-time window: output rows hold the group columns,
   * `window_start` (ms) and the aggregates of this batch's records — partial results for a sink that
   * adds them up. Needs `withWatermark` before it (the window is by event time).
   */
  windowedAggregate(spec: WindowedAggregate): StreamFrame {
    const r = optionRules('windowedAggregate()');
    r.object(spec);
    r.knownKeys(spec, ['groupBy', 'windowMs', 'countAs', 'sums']);
    if (!Array.isArray(spec.groupBy) || !spec.groupBy.every((g) => typeof g === 'string' && g.length > 0)) r.fail('groupBy', 'must be an array of column names', spec.groupBy);
    r.int('windowMs', spec.windowMs, 1);
    if (!this.ops.some((o) => o.kind === 'watermark')) r.fail('windowMs', 'needs withWatermark(...) earlier in the query (windows are by event time)');
    return new StreamFrame(this.source, [...this.ops, { kind: 'window', spec }]);
  }

  /** Starts the query: micro-batches from the source into `sink`, exactly once (see the file header). */
  writeStream(sink: StreamSink, options: WriteStreamOptions): StreamingQuery {
    const r = optionRules('writeStream()');
    const o = r.object(options);
    r.knownKeys(o, ['queryName', 'maxBatchRecords', 'triggerMs', 'onBatch']);
    if (typeof o.queryName !== 'string' || o.queryName.length === 0) r.fail('queryName', 'must be a non-empty string', o.queryName);
    const maxBatch = r.int('maxBatchRecords', o.maxBatchRecords, 1000);
    const triggerMs = r.int('triggerMs', o.triggerMs, 200, { min: 0 });
    const onBatch = r.fn('onBatch', o.onBatch) as WriteStreamOptions['onBatch'];
    const query = o.queryName;
    const source = this.source;
    const ops = this.ops;
    const progress = { records: 0, rowsWritten: 0, lateDropped: 0, batches: 0 };
    let stopping = false;
    const run = async (): Promise<void> => {
      const start = await sink.checkpoint(query, source.name);
      let watermarkMs = start?.watermarkMs;
      await source.open(start?.offset);
      try {
        while (!stopping) {
          const records = await source.poll(maxBatch, triggerMs);
          if (records.length === 0) continue;
          const t0 = performance.now();
          const { rows, late, watermark } = runOps(ops, records as StreamRecord<Row>[], watermarkMs);
          watermarkMs = watermark;
          const offset = records[records.length - 1]!.offset;
          const checkpoint: StreamCheckpoint = { offset, watermarkMs };
          await sink.write(query, source.name, rows, checkpoint);
          await source.commit(offset);
          progress.records += records.length;
          progress.rowsWritten += rows.length;
          progress.lateDropped += late;
          progress.batches++;
          onBatch?.({ batchId: progress.batches, records: records.length, rowsWritten: rows.length, lateDropped: late, offset, watermarkMs, durationMs: performance.now() - t0 });
        }
      } finally {
        await source.close();
        await sink.close();
      }
    };
    const done = run();
    done.catch(() => undefined);
    return {
      name: query,
      progress,
      done,
      async stop() {
        stopping = true;
        await done;
      },
    };
  }
}

/** Starts defining a streaming query over `source`. */
export function readStream(source: StreamSource): StreamFrame {
  const s = source as unknown as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null || typeof s.name !== 'string' || !['open', 'poll', 'commit', 'compareOffsets', 'close'].every((m) => typeof s[m] === 'function')) {
    throw new StreamQueryError('(unnamed)', 'readStream(source): source must implement StreamSource (name, open, poll, commit, compareOffsets, close)');
  }
  return new StreamFrame(source);
}

function toMs(v: unknown, column: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t;
  }
  throw new StreamQueryError('(event time)', `column "${column}" holds ${String(v)}, not a time (ms, Date or ISO string)`);
}

/** Runs the plan on one batch. */
function runOps(ops: readonly Op[], records: StreamRecord<Row>[], watermarkIn: number | undefined): { rows: Row[]; late: number; watermark: number | undefined } {
  let items = records.map((rec) => ({ rec, value: rec.value, eventMs: rec.timestampMs }));
  let late = 0;
  let watermark = watermarkIn;
  for (const op of ops) {
    switch (op.kind) {
      case 'map':
        items = items.map((it) => ({ ...it, value: op.fn(it.value, it.rec) }));
        break;
      case 'filter':
        items = items.filter((it) => op.fn(it.value, it.rec));
        break;
      case 'watermark': {
        let maxEvent = -Infinity;
        const kept: typeof items = [];
        for (const it of items) {
          const t = op.eventTimeMs(it.value, it.rec);
          if (watermark !== undefined && t < watermark) {
            late++;
            continue;
          }
          maxEvent = Math.max(maxEvent, t);
          kept.push({ ...it, eventMs: t });
        }
        items = kept;
        // Like Spark: the watermark moves at the end of the batch, never backwards.
        if (maxEvent > -Infinity) watermark = Math.max(watermark ?? -Infinity, maxEvent - op.delayMs);
        break;
      }
      case 'window': {
        const { groupBy, windowMs } = op.spec;
        const countAs = op.spec.countAs ?? 'count';
        const sums = Object.entries(op.spec.sums ?? {});
        const groups = new Map<string, Row>();
        for (const it of items) {
          const start = Math.floor(it.eventMs / windowMs) * windowMs;
          const keyVals = groupBy.map((g) => it.value[g]);
          const k = JSON.stringify([...keyVals.map((v) => (typeof v === 'bigint' ? v.toString() : v)), start]);
          let row = groups.get(k);
          if (!row) {
            row = {};
            groupBy.forEach((g, i) => (row![g] = keyVals[i]));
            row.window_start = start;
            row[countAs] = 0;
            for (const [out] of sums) row[out] = 0;
            groups.set(k, row);
          }
          row[countAs] = (row[countAs] as number) + 1;
          for (const [out, input] of sums) row[out] = (row[out] as number) + Number(it.value[input] ?? 0);
        }
        return { rows: [...groups.values()], late, watermark };
      }
    }
  }
  return { rows: items.map((it) => it.value), late, watermark };
}
