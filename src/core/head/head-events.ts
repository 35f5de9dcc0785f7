/**
 * The head's recent events in memory, for views that stream them (the dashboard): a bounded ring
 * and a set of listeners. A listener that throws is logged and dropped, never the head's problem.
 */
import { log } from '../log.js';
import type { HeadEvent } from './head-extension.js';
import type { HeadStore } from './head-store.js';

/** Events kept in memory for views that start late. */
export const HEAD_EVENTS_KEPT = 1000;
/** Retention of the events kept in the head store: the newest this many, none older than EVENT_MAX_AGE_MS. */
export const EVENTS_STORED = 5000;
export const EVENT_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** Store key of an event: sorts by time, unique across head restarts. */
export const eventKey = (e: HeadEvent): string => `${String(e.at).padStart(15, '0')}.${process.pid}.${String(e.seq).padStart(9, '0')}`;

export class HeadEvents {
  private readonly ring: HeadEvent[] = [];
  private readonly listeners = new Set<(e: HeadEvent) => void>();
  private seq = 0;
  /** Keys of the stored events, oldest first (for the retention policy). */
  private readonly storedKeys: string[] = [];
  private sink?: Pick<HeadStore, 'put' | 'delete'> | undefined;

  /**
   * Takes the events a previous head stored (the newest become the recent ones: nothing before a
   * restart goes missing) and stores new ones in `sink` from now on.
   */
  restore(stored: Map<string, unknown> | undefined, sink: Pick<HeadStore, 'put' | 'delete'>): void {
    const keys = [...(stored?.keys() ?? [])].sort();
    this.storedKeys.push(...keys);
    for (const k of keys.slice(-HEAD_EVENTS_KEPT)) this.ring.push({ ...(stored!.get(k) as HeadEvent), seq: ++this.seq });
    this.sink = sink;
    this.prune(Date.now());
  }

  /** Stops storing (a stopping head must not write any more). */
  detach(): void {
    this.sink = undefined;
  }

  private prune(now: number): void {
    if (!this.sink) return;
    const oldest = String(now - EVENT_MAX_AGE_MS).padStart(15, '0');
    while (this.storedKeys.length > EVENTS_STORED || (this.storedKeys.length && this.storedKeys[0]! < oldest)) {
      this.sink.delete('history-event', this.storedKeys.shift()!);
    }
  }

  emit(event: string, fields: Record<string, unknown>): void {
    const e: HeadEvent = { seq: ++this.seq, at: Date.now(), event, fields };
    this.ring.push(e);
    if (this.ring.length > HEAD_EVENTS_KEPT) this.ring.shift();
    if (this.sink) {
      const key = eventKey(e);
      this.sink.put('history-event', key, e);
      this.storedKeys.push(key);
      this.prune(e.at);
    }
    this.deliver(e);
  }

  /**
   * Hands an event to the listeners only: neither kept in the ring nor stored (what drivers publish,
   * head/published.ts, arrives often; the extension that shows it keeps what it needs).
   */
  notify(event: string, fields: Record<string, unknown>): void {
    const e: HeadEvent = { seq: ++this.seq, at: Date.now(), event, fields };
    this.deliver(e);
  }

  /** Hands `e` to every listener; one that throws is removed (and logged), the others still get it. */
  private deliver(e: HeadEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        log.warn({ err, event: e.event }, 'a head event listener failed; removed');
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
