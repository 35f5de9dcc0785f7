/**
 * A handle to a deployment, for one deployment to call another (an ingress that looks up features,
 * calls the model and formats the answer). Bound deployments passed as constructor arguments arrive
 * in the replica as handles. The handle routes by power of two choices on the calls it has in
 * flight itself. It follows the dependency's replicas: when they change (autoscaling, a hot swap, a
 * rollback, a replaced replica) the controller sends the new list to every replica holding a handle
 * to it, and the handles of that name in the replica's thread take it (`updateHandles`). The update
 * is answered once the handle's calls to the replicas it dropped have finished (at most
 * `HANDLE_DRAIN_MS`): the controller stops old replicas only then, so no call dies with them.
 *
 * Calls go as the ingress's do, over the replica's direct channel (direct-channel.ts: one TCP hop
 * from the calling thread to the replica's thread, not an actor call through the head) when the
 * controller opened one for that replica; the handle carries its address and secret. A replica
 * without one (TLS cluster, `directCalls: false`), a channel that cannot be opened, and calls with
 * ObjectRef arguments take the actor call.
 */
import { get, ObjectRef, registerCodecClass, type ActorHandle } from '../core/index.js';
import { DirectChannel, type DirectAddress } from './direct-channel.js';
import { ReplicaUnavailableError } from './errors.js';
import { INVOKE_METHOD } from './replica-load.js';

/** Where a replica's direct channel listens and the secret it takes (what a handle needs to use it). */
export interface DirectTarget extends DirectAddress {
  secret: string;
}

/** After a failed connection, a replica's calls take the actor path this long before the next try. */
export const DIRECT_RETRY_MS = 10_000;

/** This thread's channels to replicas, by address: shared by every handle in the thread. */
const channels = new Map<string, Promise<DirectChannel | undefined>>();

/** Calls made by this thread's handles, by path: for tests and the bench. */
const counts = { direct: 0, actor: 0 };

/** How many handle calls (and broadcasts, per replica) this thread sent over direct channels and as actor calls. */
export function handleCallCounts(): { direct: number; actor: number } {
  return { ...counts };
}

/** An open channel to `t` (connecting once per thread), or undefined: then the call takes the actor path. */
async function channelTo(t: DirectTarget, replica: ActorHandle<any>): Promise<DirectChannel | undefined> {
  const key = `${t.host}:${t.port}`;
  let ch = channels.get(key);
  if (!ch) {
    ch = DirectChannel.connect(t, t.secret, replica.actorId, `${replica.actorId} (handle)`).catch(() => {
      setTimeout(() => channels.delete(key), DIRECT_RETRY_MS).unref();
      return undefined;
    });
    channels.set(key, ch);
  }
  const open = await ch;
  if (open && !open.open) {
    // Closed (the replica stopped or the connection broke): this call takes the actor path, the next reconnects.
    if (channels.get(key) === ch) channels.delete(key);
    return undefined;
  }
  return open;
}

/** `method(...args)` on replica `r`, counted as handle load there: over its direct channel when it has one. */
async function invokeOn(r: ActorHandle<any>, direct: DirectTarget | null | undefined, method: string, args: unknown[]): Promise<unknown> {
  const ch = direct ? await channelTo(direct, r) : undefined;
  if (ch) {
    counts.direct++;
    return ch.invoke(INVOKE_METHOD, [method, args]);
  }
  counts.actor++;
  return get((r as any)[INVOKE_METHOD].remote(method, args));
}

/** The method `deployment()` adds to every deployment class: takes a dependency's new replica list. */
export const HANDLE_UPDATE_METHOD = '__shoalHandleUpdate';

/** Longest wait for a handle's calls to dropped replicas before an update is answered anyway. */
export const HANDLE_DRAIN_MS = 30_000;

/** The handles decoded in this thread, by deployment name (weakly: a dropped handle is not kept). */
const live = new Map<string, Set<WeakRef<DeploymentHandle>>>();

export class DeploymentHandle {
  private list: ActorHandle<any>[];
  /** Each replica's direct channel (same order as the list), null where it has none. */
  private directs: Array<DirectTarget | null>;
  /** Calls in flight per replica (by actor id). */
  private readonly ongoing = new Map<string, number>();
  /** Waiting for a replica's calls to finish (by actor id). */
  private readonly idle = new Map<string, Array<() => void>>();
  constructor(readonly deploymentName: string, replicas: ActorHandle<any>[], directs: Array<DirectTarget | null> = []) {
    this.list = replicas;
    this.directs = directs;
  }

  /** The replicas calls go to now. */
  get replicas(): readonly ActorHandle<any>[] {
    return this.list;
  }

  /** @internal Each replica's direct channel (null where it has none), for the codec. */
  get directTargets(): ReadonlyArray<DirectTarget | null> {
    return this.directs;
  }

  /**
   * @internal Replaces the replica list (the dependency scaled, swapped or replaced a replica);
   * resolves once the calls in flight to the replicas dropped have finished.
   */
  setReplicas(replicas: ActorHandle<any>[], directs: Array<DirectTarget | null> = []): Promise<void> {
    this.list = replicas;
    this.directs = directs;
    const ids = new Set(replicas.map((r) => r.actorId));
    const waits: Promise<void>[] = [];
    for (const id of this.ongoing.keys()) {
      if (ids.has(id)) continue;
      waits.push(new Promise<void>((resolve) => {
        let w = this.idle.get(id);
        if (!w) this.idle.set(id, (w = []));
        w.push(resolve);
      }));
    }
    return Promise.all(waits).then(() => undefined);
  }

  /**
   * Calls `method(...args)` on every replica the handle knows, concurrently; resolves to their
   * answers in replica order (rejects with the first failure). How state is pushed to all replicas
   * of a deployment without restarting them — e.g. a streaming job's updated user vectors.
   */
  async broadcast<R = unknown>(method: string, ...args: unknown[]): Promise<R[]> {
    const list = this.list;
    const directs = this.directs;
    if (list.length === 0) throw new ReplicaUnavailableError(this.deploymentName, 'the handle has no replicas');
    if (args.some((a) => a instanceof ObjectRef)) return (await Promise.all(list.map((r) => get((r as any)[INVOKE_METHOD].remote(method, args))))) as R[];
    return (await Promise.all(list.map((r, i) => invokeOn(r, directs[i], method, args)))) as R[];
  }

  /** Calls `method(...args)` on one replica of the deployment. */
  async call<R = unknown>(method: string, ...args: unknown[]): Promise<R> {
    const list = this.list;
    const n = list.length;
    if (n === 0) throw new ReplicaUnavailableError(this.deploymentName, 'the handle has no replicas');
    let i = Math.floor(Math.random() * n);
    if (n > 1) {
      const j = Math.floor(Math.random() * n);
      if ((this.ongoing.get(list[j]!.actorId) ?? 0) < (this.ongoing.get(list[i]!.actorId) ?? 0)) i = j;
    }
    const r = list[i]!;
    const direct = this.directs[i];
    const id = r.actorId;
    this.ongoing.set(id, (this.ongoing.get(id) ?? 0) + 1);
    try {
      // Through INVOKE_METHOD: the replica counts the call as load its autoscaler sees. Arguments
      // that are ObjectRefs go as they did (resolved to values before the call), uncounted.
      if (args.some((a) => a instanceof ObjectRef)) return (await get((r as any)[method].remote(...args))) as R;
      return (await invokeOn(r, direct, method, args)) as R;
    } finally {
      const left = (this.ongoing.get(id) ?? 1) - 1;
      if (left > 0) this.ongoing.set(id, left);
      else {
        this.ongoing.delete(id);
        for (const resolve of this.idle.get(id) ?? []) resolve();
        this.idle.delete(id);
      }
    }
  }
}

function track(h: DeploymentHandle): DeploymentHandle {
  let set = live.get(h.deploymentName);
  if (!set) live.set(h.deploymentName, (set = new Set()));
  set.add(new WeakRef(h));
  return h;
}

/**
 * Gives every live handle to `deploymentName` in this thread the replica list `replicas`; resolves
 * to how many took it, once their calls to dropped replicas finished (or `HANDLE_DRAIN_MS` passed).
 */
export async function updateHandles(deploymentName: string, replicas: ActorHandle<any>[], directs: Array<DirectTarget | null> = []): Promise<number> {
  const set = live.get(deploymentName);
  if (!set) return 0;
  const drains: Promise<void>[] = [];
  for (const ref of set) {
    const h = ref.deref();
    if (!h) {
      set.delete(ref);
      continue;
    }
    drains.push(h.setReplicas(replicas, directs));
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(drains), new Promise<void>((r) => (timer = setTimeout(r, HANDLE_DRAIN_MS)))]);
  clearTimeout(timer);
  return drains.length;
}

registerCodecClass({
  Class: DeploymentHandle,
  type: 0x30,
  write: (h: DeploymentHandle) => [h.deploymentName, h.replicas, h.directTargets],
  read: ([name, replicas, directs]: [string, ActorHandle<any>[], Array<DirectTarget | null> | undefined]) => track(new DeploymentHandle(name, replicas, directs ?? [])),
});
