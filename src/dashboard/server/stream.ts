/**
 * Live updates by server-sent events. /api/stream: one cluster view a second (computed once and
 * sent to every open page, so ten open pages cost the head what one does) and each head event as
 * it happens. /api/jobs/<id>/logs/stream: a job's output as it is written, then `end`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventView, StreamMessage } from '../api-types.js';
import { metricPoint } from '../metric-sampler.js';
import type { DashboardSource } from '../source.js';
import { SECURITY_HEADERS } from './http.js';

export const STREAM_INTERVAL_MS = 1_000;
export const LOG_POLL_INTERVAL_MS = 250;

function openStream(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
  res.write(': shoal\n\n');
  req.socket.setNoDelay(true);
}

const frame = (data: unknown, event?: string): string => `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;

export class StreamHub {
  private readonly clients = new Set<ServerResponse>();
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;

  constructor(private readonly source: DashboardSource) {}

  /** Serves /api/stream until the page goes away. */
  open(req: IncomingMessage, res: ServerResponse): void {
    openStream(req, res);
    res.write(frame(this.clusterMessage()));
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.idle();
    });
    if (this.clients.size === 1) this.busy();
  }

  private clusterMessage(): StreamMessage {
    const cluster = this.source.cluster();
    return { type: 'cluster', cluster, point: metricPoint(cluster) };
  }

  private busy(): void {
    if (this.source.readOnly) return;
    this.timer = setInterval(() => this.broadcast(frame(this.clusterMessage())), STREAM_INTERVAL_MS);
    this.timer.unref();
    this.unsubscribe = this.source.onEvent((event: EventView) => this.broadcast(frame({ type: 'event', event } satisfies StreamMessage)));
  }

  private idle(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private broadcast(text: string): void {
    for (const c of this.clients) c.write(text);
  }

  close(): void {
    this.idle();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}

/** Streams a job's log from `offset` until the job ended and everything was sent. */
export function streamJobLog(source: DashboardSource, jobId: string, offset: number, req: IncomingMessage, res: ServerResponse): void {
  source.job(jobId); // 404 before the stream opens
  openStream(req, res);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  res.on('close', () => {
    closed = true;
    clearTimeout(timer);
  });
  const pump = async (): Promise<void> => {
    for (;;) {
      if (closed) return;
      const chunk = await source.readLog(jobId, offset);
      if (closed) return;
      if (chunk.data) res.write(frame(chunk));
      offset = chunk.offset;
      if (chunk.done) {
        res.end(frame({ offset, job: source.job(jobId) }, 'end'));
        return;
      }
      if (!chunk.data) break;
    }
    timer = setTimeout(() => void pump().catch(() => res.destroy()), LOG_POLL_INTERVAL_MS);
  };
  void pump().catch(() => res.destroy());
}
