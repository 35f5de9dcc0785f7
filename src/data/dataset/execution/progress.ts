/**
 * The driver's progress line on stderr: per stage, partitions done/total, rows the stage produced and
 * its rows/s. A finished stage keeps its line; the running one is redrawn in place.
 *
 * The same progress goes to the head's dashboard (core `publish`, topic `data.progress`: its
 * Datasets page), throttled to one message per DATA_PROGRESS_INTERVAL_MS per action whatever the
 * number of partitions, the final state always sent. Publishing is best effort: a head that does
 * not take it (an older one, no cluster) turns it off for the action, never fails it.
 */
import { publish } from '../../../core/index.js';

export const DATA_PROGRESS_TOPIC = 'data.progress';
export const DATA_PROGRESS_INTERVAL_MS = 1_000;
/** Stages listed in one message (the newest): bounds it under the publish size limit. */
const STAGES_SENT = 50;

/** What one `data.progress` message carries: an action and its stages so far. */
export interface DataProgressMessage {
  /** Unique per action: `<pid>-<n>`. */
  action: string;
  startedAt: number;
  endedAt: number | null;
  stages: Array<{ label: string; done: number; total: number; rows: number; startedAt: number; endedAt: number | null }>;
}

let actionSeq = 0;

/** Publishes one action's stages to the head at most once per interval (trailing), and at the end. */
export class ProgressPublisher {
  private readonly message: DataProgressMessage;
  private lastSent = 0;
  private timer: NodeJS.Timeout | undefined;
  private off = false;

  constructor(
    private readonly send_: (message: DataProgressMessage) => Promise<unknown> = (m) => publish(DATA_PROGRESS_TOPIC, m),
    private readonly intervalMs = DATA_PROGRESS_INTERVAL_MS,
  ) {
    this.message = { action: `${process.pid}-${++actionSeq}`, startedAt: Date.now(), endedAt: null, stages: [] };
  }

  startStage(label: string, total: number): void {
    const now = Date.now();
    const last = this.message.stages.at(-1);
    if (last && last.endedAt === null) last.endedAt = now;
    this.message.stages.push({ label, done: 0, total, rows: 0, startedAt: now, endedAt: null });
    if (this.message.stages.length > STAGES_SENT) this.message.stages.shift();
    this.changed();
  }

  partitionDone(rows: number | undefined): void {
    const s = this.message.stages.at(-1);
    if (!s) return;
    s.done++;
    if (rows !== undefined) s.rows += rows;
    if (s.done >= s.total && s.endedAt === null) s.endedAt = Date.now();
    this.changed();
  }

  finish(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.message.stages.length === 0) return;
    const now = Date.now();
    this.message.endedAt = now;
    for (const s of this.message.stages) s.endedAt ??= now;
    this.send();
  }

  private changed(): void {
    if (this.off || this.timer) return;
    const wait = this.lastSent + this.intervalMs - Date.now();
    if (wait <= 0) return this.send();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.send();
    }, wait);
    this.timer.unref();
  }

  private send(): void {
    if (this.off) return;
    this.lastSent = Date.now();
    this.send_(this.message).catch(() => {
      this.off = true;
    });
  }
}

export class Progress {
  private readonly publisher = new ProgressPublisher();
  private lastPrint = 0;
  private stageStarted = Date.now();
  private done = 0;
  private total = 0;
  private rows = 0;
  private stage = '';
  private open = false;

  constructor(private readonly enabled: boolean) {}

  startStage(label: string, total: number): void {
    if (this.open) this.endLine();
    this.stage = label;
    this.done = 0;
    this.total = total;
    this.rows = 0;
    this.stageStarted = Date.now();
    this.publisher.startStage(label, total);
    this.print(true);
  }

  partitionDone(rows?: number): void {
    this.done++;
    if (rows !== undefined) this.rows += rows;
    this.publisher.partitionDone(rows);
    this.print(this.done === this.total);
  }

  /** The line as printed now. */
  line(): string {
    const secs = Math.max((Date.now() - this.stageStarted) / 1000, 1e-3);
    return `[shoal data] ${this.stage}: ${this.done}/${this.total} partitions, ${this.rows} rows, ${Math.round(this.rows / secs)} rows/s`;
  }

  private print(force: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastPrint < 200) return;
    this.lastPrint = now;
    this.open = true;
    process.stderr.write(`\r${this.line()}   `);
  }

  private endLine(): void {
    if (this.enabled) process.stderr.write('\n');
    this.open = false;
  }

  finish(): void {
    this.publisher.finish();
    if (this.open) this.endLine();
  }
}
