/**
 * A step's log: what its code writes to stdout and stderr (console.log and friends included) and the
 * lines it logs with `ctx.log()`, recorded with the step in the platform store (table
 * `pipeline_step_logs`, store migration 3) so `shoal pipeline show RUN --logs` and the dashboard read
 * it after the cluster is gone.
 *
 * Steps run as tasks on worker threads that may run other work at the same time, so output is told
 * apart by async context (AsyncLocalStorage), not by thread: the thread's `process.stdout.write` and
 * `process.stderr.write` are wrapped once, and a write made inside a step's call — however deep in
 * its awaits — goes to that step's log as well as to where it went before (the worker's output).
 * Lines are written to the store every second while the step runs and at its end, so a long step's
 * log can be read while it runs; a retried step's log is that of its last attempt. At most
 * {@link MAX_LOG_LINES} lines of at most {@link MAX_LOG_LINE_CHARS} characters are kept per step.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Store } from '../../store/index.js';

/** Lines kept per step (the rest are counted in a last line). */
export const MAX_LOG_LINES = 10_000;
/** Characters kept per line. */
export const MAX_LOG_LINE_CHARS = 4_000;
const FLUSH_INTERVAL_MS = 1_000;

/** Where a line came from: the step's stdout, stderr, or `ctx.log()`. */
export type LogStream = 'stdout' | 'stderr' | 'log';

/** One line of a step's log. */
export interface StepLogLine {
  step: string;
  seq: number;
  stream: LogStream;
  line: string;
  /** When it was written (epoch ms). */
  ts: number;
}

/** Collects one step attempt's lines and writes them to the store. */
export class StepLogSink {
  private readonly pending: Array<{ stream: LogStream; line: string; ts: number }> = [];
  private readonly partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private seq = 0;
  private dropped = 0;
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: ReturnType<typeof setInterval>;
  /** A retry clears the log of the attempt before (on its first write, or at its end): a retried step's log is its last attempt's. */
  private clear: boolean;

  constructor(
    private readonly store: () => Promise<Store>,
    private readonly pipelineRunId: string,
    private readonly step: string,
    attempt: number,
  ) {
    this.clear = attempt > 1;
    this.timer = setInterval(() => void this.flush().catch(() => undefined), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Output written to stdout or stderr: split into lines (a partial line waits for its end). */
  write(stream: 'stdout' | 'stderr', text: string): void {
    const parts = (this.partial[stream] + text).split('\n');
    this.partial[stream] = parts.pop()!;
    for (const p of parts) this.add(stream, p.replace(/\r$/, ''));
  }

  /** A line logged with `ctx.log()` (several lines when it holds newlines). */
  log(text: string): void {
    for (const l of text.split('\n')) this.add('log', l);
  }

  private add(stream: LogStream, line: string): void {
    if (this.seq + this.pending.length >= MAX_LOG_LINES) {
      this.dropped++;
      return;
    }
    this.pending.push({ stream, line: line.length > MAX_LOG_LINE_CHARS ? `${line.slice(0, MAX_LOG_LINE_CHARS)}…` : line, ts: Date.now() });
  }

  /** Writes the lines collected so far. */
  flush(): Promise<void> {
    this.writing = this.writing.catch(() => undefined).then(async () => {
      if (!this.pending.length && !this.clear) return;
      const store = await this.store();
      if (this.clear) {
        this.clear = false;
        await store.db.run(`DELETE FROM pipeline_step_logs WHERE pipeline_run_id = ? AND step = ?`, [this.pipelineRunId, this.step]);
      }
      if (!this.pending.length) return;
      const lines = this.pending.splice(0);
      const rows = lines.map((l) => [this.pipelineRunId, this.step, this.seq++, l.stream, l.line, l.ts]);
      await store.db.insertMany('pipeline_step_logs', ['pipeline_run_id', 'step', 'seq', 'stream', 'line', 'ts'], rows);
    });
    return this.writing;
  }

  /** Ends the log: the partial lines and the count of lines not kept are written. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.partial[s] !== '') this.add(s, this.partial[s]);
      this.partial[s] = '';
    }
    if (this.dropped) {
      this.pending.push({ stream: 'log', line: `… ${this.dropped} more lines not kept (at most ${MAX_LOG_LINES} per step)`, ts: Date.now() });
    }
    await this.flush();
  }
}

const current = new AsyncLocalStorage<StepLogSink>();
let wrapped = false;

/** Wraps this thread's stdout/stderr writes once, so writes inside {@link captureOutput} reach the step's log too. */
function wrapStreams(): void {
  if (wrapped) return;
  wrapped = true;
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = process[name];
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = function write(chunk: unknown, ...rest: unknown[]): boolean {
      const sink = current.getStore();
      if (sink) {
        const encoding = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8';
        sink.write(name, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(encoding));
      }
      return original(chunk, ...rest);
    } as typeof stream.write;
  }
}

/** Runs `fn` with what it writes to stdout/stderr also going to `sink`. */
export function captureOutput<T>(sink: StepLogSink, fn: () => T): T {
  wrapStreams();
  return current.run(sink, fn);
}

/** The log lines of pipeline run `pipelineRunId` (of one step when `step` is given), in step and write order. */
export async function readStepLogs(store: Store, pipelineRunId: string, step?: string): Promise<StepLogLine[]> {
  const rows = step === undefined
    ? await store.db.all<StepLogLine>(`SELECT step, seq, stream, line, ts FROM pipeline_step_logs WHERE pipeline_run_id = ? ORDER BY step, seq`, [pipelineRunId])
    : await store.db.all<StepLogLine>(`SELECT step, seq, stream, line, ts FROM pipeline_step_logs WHERE pipeline_run_id = ? AND step = ? ORDER BY seq`, [pipelineRunId, step]);
  return rows.map((r) => ({ step: r.step, seq: Number(r.seq), stream: r.stream, line: r.line, ts: Number(r.ts) }));
}
