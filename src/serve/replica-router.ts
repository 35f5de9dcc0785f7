/**
 * Routing inside one version of a deployment: power-of-two-choices on ongoing requests (Ray Serve's
 * router), a replica at `maxOngoingRequests` gets no more, and when every replica is full the request
 * waits in a bounded queue shared by the deployment — past its bound the caller gets OverloadedError
 * (503 + Retry-After), so memory never grows without bound under overload.
 */
import type { ActorHandle } from '../core/index.js';
import type { DirectTarget } from './deployment-handle.js';
import { OverloadedError } from './errors.js';
import type { ReplicaMux } from './replica-mux.js';

export interface Replica {
  readonly id: string;
  readonly handle: ActorHandle<any>;
  readonly version: string;
  /** Calls in flight on this replica. */
  ongoing: number;
  state: 'running' | 'draining' | 'dead';
  /** Average handle calls in flight on it (deployment-to-deployment traffic), as it last reported. */
  handleLoad?: number | undefined;
  /** Its direct channel's address and secret (handles use it too), when it has one. */
  direct?: DirectTarget | undefined;
  /** Coalesces the ingress's calls to this replica (made on first use). */
  mux?: ReplicaMux | undefined;
}

interface Waiter {
  group: ReplicaGroup;
  resolve: (r: Replica) => void;
  reject: (e: unknown) => void;
}

/** The bounded queue of one deployment, shared by its versions. */
export class RequestQueue {
  private readonly waiters: Waiter[] = [];
  constructor(readonly deployment: string, public maxQueued: number) {}

  get length(): number {
    return this.waiters.length;
  }

  /** A replica of `group` with a free slot; waits in the queue when all are full. */
  acquire(group: ReplicaGroup): Promise<Replica> {
    const r = group.pick();
    if (r) {
      r.ongoing++;
      return Promise.resolve(r);
    }
    if (this.waiters.length >= this.maxQueued) return Promise.reject(new OverloadedError(this.deployment, this.waiters.length));
    return new Promise((resolve, reject) => this.waiters.push({ group, resolve, reject }));
  }

  /** Gives a slot back and hands free slots to waiting requests, oldest first. */
  release(r: Replica): void {
    r.ongoing--;
    this.pump();
  }

  /** Hands free slots to waiters (after a release, or when replicas were added). */
  pump(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i]!;
      const r = w.group.pick();
      if (!r) {
        i++;
        continue;
      }
      r.ongoing++;
      this.waiters.splice(i, 1);
      w.resolve(r);
    }
  }

  /** Fails every waiter of `group` (its version was removed). */
  failGroup(group: ReplicaGroup, err: unknown): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.group === group) this.waiters.splice(i, 1)[0]!.reject(err);
    }
  }
}

/** The replicas of one version of a deployment. */
export class ReplicaGroup {
  readonly replicas: Replica[] = [];
  constructor(readonly version: string, readonly maxOngoing: number) {}

  get running(): Replica[] {
    return this.replicas.filter((r) => r.state === 'running');
  }

  /** Power of two choices among running replicas with a free slot; undefined when all are full. */
  pick(exclude?: Replica): Replica | undefined {
    const free = this.replicas.filter((r) => r.state === 'running' && r.ongoing < this.maxOngoing && r !== exclude);
    if (free.length === 0) return undefined;
    if (free.length === 1) return free[0];
    const i = Math.floor(Math.random() * free.length);
    let j = Math.floor(Math.random() * (free.length - 1));
    if (j >= i) j++;
    const a = free[i]!;
    const b = free[j]!;
    return a.ongoing <= b.ongoing ? a : b;
  }

  ongoing(): number {
    return this.replicas.reduce((s, r) => s + r.ongoing, 0);
  }
}
