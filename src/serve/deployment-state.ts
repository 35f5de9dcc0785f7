/**
 * What the controller keeps per deployment (Ray Serve's `deployment_state`): the stable version's
 * replicas, an optional canary (weight, sticky by request key) and shadow, the previous version for
 * rollback, the shared bounded queue, and request statistics.
 */
import { createHash } from 'node:crypto';
import { ActorDiedError, kill } from '../core/index.js';
import { Batcher } from './batcher.js';
import type { BoundDeployment } from './deployment.js';
import { ReplicaUnavailableError, ServeError } from './errors.js';
import { LatencyWindow } from './latency-window.js';
import { serveLog } from './log.js';
import { ReplicaMux } from './replica-mux.js';
import { ReplicaGroup, RequestQueue, type Replica } from './replica-router.js';
import type { ServeRequest } from './serve-types.js';

/** One version of a deployment: its bound class and arguments, and its replicas. */
export class VersionState {
  readonly group: ReplicaGroup;
  batcher: Batcher<ServeRequest, unknown> | undefined;
  constructor(readonly version: string, readonly bound: BoundDeployment, readonly args: unknown[]) {
    this.group = new ReplicaGroup(version, bound.deployment.config.maxOngoingRequests);
  }
  get config() {
    return this.bound.deployment.config;
  }
}

/** Which arm a request went to: `holdout` users get the stable version's non-personalised answer. */
export type Arm = 'stable' | 'canary' | 'holdout';

export interface Answer {
  value: unknown;
  version: string;
  arm: Arm;
}

/** Bucket in [0, 10000) of a request key: the same user always lands in the same arm. */
export function keyBucket(key: string): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0) % 10_000;
}

export class DeploymentState {
  stable: VersionState;
  canary: { state: VersionState; weight: number } | undefined;
  shadow: VersionState | undefined;
  /** The version replaced by the last promotion: what `rollback` returns to. */
  previous: VersionState | undefined;
  readonly queue: RequestQueue;
  /** Latencies (ms) of the latest requests, for status p50/p99; counts since start. */
  readonly latencies = new LatencyWindow();
  requests = 0;
  errors = 0;
  shadowAnswers = 0;
  readonly startedAt = Date.now();
  /** Called when a replica died, so the controller replaces it. */
  onReplicaDied: (v: VersionState, r: Replica) => void = () => {};

  /** The path prefix the ingress routes here (a later deploy may move it). */
  route: string;
  /** Percent of keys held out of personalisation (DeployOptions.holdoutPercent). */
  holdoutPercent = 0;

  constructor(readonly name: string, route: string, stable: VersionState) {
    this.route = route;
    this.stable = stable;
    this.queue = new RequestQueue(name, stable.config.maxQueuedRequests);
  }

  versions(): VersionState[] {
    return [this.stable, ...(this.canary ? [this.canary.state] : []), ...(this.shadow ? [this.shadow] : [])];
  }

  /**
   * Chooses the arm for a request key, sticky by key hash: the holdout takes the top
   * `holdoutPercent` of buckets, the canary the bottom `weight` percent, the stable version the rest
   * (so the holdout never sees the canary, whatever its weight).
   */
  armFor(key: string): { state: VersionState; arm: Arm } {
    const b = keyBucket(key);
    if (this.holdoutPercent > 0 && b >= 10_000 - this.holdoutPercent * 100) return { state: this.stable, arm: 'holdout' };
    if (this.canary && b < this.canary.weight * 100) return { state: this.canary.state, arm: 'canary' };
    return { state: this.stable, arm: 'stable' };
  }

  /** Serves one request: routes to an arm, batches when configured, retries a GET once if its replica died. */
  async handle(req: ServeRequest): Promise<Answer> {
    const started = performance.now();
    this.requests++;
    const { state, arm } = this.armFor(req.key);
    if (arm === 'holdout') req = { ...req, holdout: true };
    if (this.shadow) this.mirror(this.shadow, req);
    try {
      let value: unknown;
      try {
        value = await this.callVersion(state, req);
      } catch (err) {
        if (!(err instanceof ActorDiedError)) throw err;
        if (req.method !== 'GET') throw new ReplicaUnavailableError(this.name, `the replica died while serving a ${req.method} request (not retried: not idempotent)`);
        try {
          value = await this.callVersion(state, req);
        } catch (err2) {
          if (err2 instanceof ActorDiedError) throw new ReplicaUnavailableError(this.name, 'replicas died on the request and its one retry');
          throw err2;
        }
      }
      this.latencies.record(performance.now() - started);
      return { value, version: state.version, arm };
    } catch (err) {
      this.errors++;
      throw err;
    }
  }

  private mirror(shadow: VersionState, req: ServeRequest): void {
    // Logged, never returned; a shadow that is full or failing costs the live request nothing.
    if (shadow.group.pick() === undefined) return;
    this.callVersion(shadow, req).then(
      (value) => {
        this.shadowAnswers++;
        serveLog.info({ requestId: req.requestId, deployment: this.name, shadowVersion: shadow.version, answer: value }, 'shadow answer');
      },
      (err: unknown) => serveLog.warn({ requestId: req.requestId, deployment: this.name, shadowVersion: shadow.version, err: String(err) }, 'shadow failed'),
    );
  }

  private callVersion(v: VersionState, req: ServeRequest): Promise<unknown> {
    if (v.batcher) return v.batcher.submit(req);
    return this.onReplica(v, 'call', req);
  }

  /** Takes a slot on a replica of `v` (or waits in the bounded queue), calls `method(arg)`, frees the slot. */
  async onReplica(v: VersionState, method: string, arg: unknown): Promise<unknown> {
    const r = await this.queue.acquire(v.group);
    try {
      const mux = (r.mux ??= new ReplicaMux(r.handle));
      return await (method === 'call' ? mux.call(arg as ServeRequest) : mux.invoke(method, arg));
    } catch (err) {
      if (err instanceof ActorDiedError && r.state !== 'dead') {
        r.state = 'dead';
        serveLog.warn({ deployment: this.name, replica: r.id, version: v.version }, 'replica died; replacing it');
        this.onReplicaDied(v, r);
      }
      throw err;
    } finally {
      this.queue.release(r);
    }
  }

  /** Sets up batching for a version (when its options ask for it). */
  enableBatching(v: VersionState): void {
    const b = v.config.batching;
    if (!b) return;
    v.batcher = new Batcher<ServeRequest, unknown>(b.maxBatchSize, b.batchWaitMs, async (reqs) => {
      const out = await this.onReplica(v, b.method, reqs);
      if (!Array.isArray(out) || out.length !== reqs.length) {
        throw new ServeError(`${this.name}.${b.method} must return an array with one answer per request (got ${Array.isArray(out) ? `${out.length} answers for ${reqs.length}` : typeof out})`);
      }
      return out;
    });
  }

}

/** Stops a replica once its in-flight calls finished (drain), then kills its actor. */
export async function drainAndStop(r: Replica, timeoutMs = 30_000): Promise<void> {
  r.state = r.state === 'dead' ? 'dead' : 'draining';
  const deadline = Date.now() + timeoutMs;
  while (r.ongoing > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  r.mux?.close();
  try {
    kill(r.handle);
  } catch {
    // already gone
  }
  r.state = 'dead';
}
