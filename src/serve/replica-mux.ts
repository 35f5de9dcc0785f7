/**
 * Coalescing of the ingress's calls to one replica: the requests routed to a replica in one turn of
 * the event loop leave as one actor call (`SERVE_MANY_METHOD`, which runs the replica's `call` on each
 * and returns one outcome per request), so under load the per-call cost of the actor path (a task
 * spec through the head, a result back) is paid once per turn, not once per request. A lone request
 * is an ordinary `call` (nothing waits for company: the flush is the next `setImmediate`). Each
 * request still counts as one of the replica's ongoing requests, and fails or succeeds on its own.
 * When the replica has a direct channel (direct-channel.ts), calls go over it instead, one frame
 * each (frames written in one turn leave as one write); once it closed, calls take the actor path.
 */
import { errorFromWire, get, type ActorHandle, type WireError } from '../core/index.js';
import { wireOf, type DirectChannel } from './direct-channel.js';
import type { ServeRequest } from './serve-types.js';

/** The method `deployment()` adds to every deployment class (deployment.ts). */
export const SERVE_MANY_METHOD = '__shoalServeMany';

/** One request's outcome in a coalesced call: its answer, or its error as it crosses the wire. */
export type Outcome = { v: unknown } | { e: WireError };

/** What a replica runs for a coalesced call: `call` on each request (concurrently), one outcome each. */
export async function serveMany(instance: { call?: (req: ServeRequest) => unknown }, className: string, reqs: ServeRequest[]): Promise<Outcome[]> {
  return Promise.all(reqs.map(async (r): Promise<Outcome> => {
    try {
      if (typeof instance.call !== 'function') throw new TypeError(`deployment class ${className} has no call(request) method`);
      return { v: await instance.call(r) };
    } catch (err) {
      return { e: wireOf(err, `${className}.call`, r.requestId) };
    }
  }));
}

interface Pending {
  req: ServeRequest;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class ReplicaMux {
  private pending: Pending[] = [];
  private scheduled = false;
  /** Sizes of the coalesced calls sent (the latest 1,000), for status and the bench. */
  readonly sizes: number[] = [];

  constructor(private readonly handle: ActorHandle<any>, readonly channel?: DirectChannel | undefined) {}

  /** True when calls go over a direct channel (still open). */
  get direct(): boolean {
    return this.channel?.open === true;
  }

  /** Calls `method(arg)` on the replica (the direct channel when open, else an actor call). */
  invoke(method: string, arg: unknown): Promise<unknown> {
    if (this.channel?.open) return this.channel.invoke(method, arg);
    return get((this.handle as Record<string, { remote: (...a: unknown[]) => any }>)[method]!.remote(arg)) as Promise<unknown>;
  }

  /** Closes the direct channel (the replica is stopping). */
  close(): void {
    this.channel?.close();
  }

  call(req: ServeRequest): Promise<unknown> {
    if (this.channel?.open) return this.channel.invoke('call', req);
    return new Promise((resolve, reject) => {
      this.pending.push({ req, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.sizes.push(batch.length);
    if (this.sizes.length > 1000) this.sizes.shift();
    const h = this.handle as Record<string, { remote: (...a: unknown[]) => any }>;
    if (batch.length === 1) {
      const p = batch[0]!;
      get(h.call!.remote(p.req)).then(p.resolve, p.reject);
      return;
    }
    (get(h[SERVE_MANY_METHOD]!.remote(batch.map((b) => b.req))) as Promise<Outcome[]>).then(
      (outcomes: Outcome[]) => {
        batch.forEach((b, i) => {
          const o = outcomes[i]!;
          if ('e' in o) b.reject(errorFromWire(o.e));
          else b.resolve(o.v);
        });
      },
      (err: unknown) => {
        for (const b of batch) b.reject(err);
      },
    );
  }
}
