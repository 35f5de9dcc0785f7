/**
 * Events drivers publish to the head's extensions (control method `publish`): serving status every
 * few seconds, a Dataset action's stage progress. The head only checks and forwards them — a
 * listener of HeadEvents sees `{ event: 'published', fields: { topic, data, sessionId } }` — and keeps
 * none (they are not head events: the extension keeps what it shows). A publisher cannot flood the
 * head: a message over PUBLISH_MAX_BYTES of JSON is refused with a typed error, and past
 * PUBLISH_MAX_PER_SECOND per topic messages are dropped (the publisher learns it from the reply).
 */
import { InvalidOptionError } from '../errors.js';

export const PUBLISH_MAX_BYTES = 16 * 1024;
/** Per topic, over all publishers (a burst of this many is allowed, refilled at this rate). */
export const PUBLISH_MAX_PER_SECOND = 20;
/** Topics tracked at most (each has a token bucket); past it the least recently used is forgotten. */
export const PUBLISH_TOPICS_KEPT = 256;

export class PublishGate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Whether a message of `topic` may go on: throws InvalidOptionError when `data` is not JSON or
   * is too large; false when the topic is over its rate.
   */
  admit(topic: string, data: unknown): boolean {
    let size: number;
    try {
      size = Buffer.byteLength(JSON.stringify(data) ?? '');
    } catch (err) {
      throw new InvalidOptionError(`publish '${topic}': data is not JSON (${(err as Error).message})`);
    }
    if (size > PUBLISH_MAX_BYTES) throw new InvalidOptionError(`publish '${topic}': data is ${size} bytes of JSON, over the limit of ${PUBLISH_MAX_BYTES}`);
    const now = this.now();
    const b = this.buckets.get(topic) ?? { tokens: PUBLISH_MAX_PER_SECOND, at: now };
    this.buckets.delete(topic);
    this.buckets.set(topic, b);
    if (this.buckets.size > PUBLISH_TOPICS_KEPT) this.buckets.delete(this.buckets.keys().next().value!);
    b.tokens = Math.min(PUBLISH_MAX_PER_SECOND, b.tokens + ((now - b.at) * PUBLISH_MAX_PER_SECOND) / 1000);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
