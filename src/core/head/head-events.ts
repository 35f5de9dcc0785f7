/**
 * The head's recent events in memory, for views that stream them (the dashboard): a bounded ring
 * and a set of listeners. A listener that throws is logged and dropped, never the head's problem.
 */
import { log } from '../log.js';
import type { HeadEvent } from './head-extension.js';

/** Events kept in memory for views that start late. */
export const HEAD_EVENTS_KEPT = 1000;

export class HeadEvents {
  private readonly ring: HeadEvent[] = [];
  private readonly listeners = new Set<(e: HeadEvent) => void>();
  private seq = 0;

  emit(event: string, fields: Record<string, unknown>): void {
    const e: HeadEvent = { seq: ++this.seq, at: Date.now(), event, fields };
    this.ring.push(e);
    if (this.ring.length > HEAD_EVENTS_KEPT) this.ring.shift();
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        log.warn({ err, event }, 'a head event listener failed; removed');
        this.listeners.delete(l);
      }
    }
  }

  recent(limit = HEAD_EVENTS_KEPT): HeadEvent[] {
    return this.ring.slice(-limit);
  }

  subscribe(listener: (e: HeadEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
