/**
 * A handle to a deployment, for one deployment to call another (an ingress that looks up features,
 * calls the model and formats the answer). Bound deployments passed as constructor arguments arrive
 * in the replica as handles. The handle routes by power of two choices on the calls it has in
 * flight itself. It follows the dependency's replicas: when they change (autoscaling, a hot swap, a
 * rollback, a replaced replica) the controller sends the new list to every replica holding a handle
 * to it, and the handles of that name in the replica's thread take it (`updateHandles`). The update
 * is answered once the handle's calls to the replicas it dropped have finished (at most
 * `HANDLE_DRAIN_MS`): the controller stops old replicas only then, so no call dies with them.
 */
import { get, ObjectRef, registerCodecClass, type ActorHandle } from '../core/index.js';
import { ReplicaUnavailableError } from './errors.js';
import { INVOKE_METHOD } from './replica-load.js';

/** The method `deployment()` adds to every deployment class: takes a dependency's new replica list. */
export const HANDLE_UPDATE_METHOD = '__shoalHandleUpdate';

/** Longest wait for a handle's calls to dropped replicas before an update is answered anyway. */
export const HANDLE_DRAIN_MS = 30_000;

/** The handles decoded in this thread, by deployment name (weakly: a dropped handle is not kept). */
const live = new Map<string, Set<WeakRef<DeploymentHandle>>>();

export class DeploymentHandle {
  private list: ActorHandle<any>[];
  /** Calls in flight per replica (by actor id). */
  private readonly ongoing = new Map<string, number>();
  /** Waiting for a replica's calls to finish (by actor id). */
  private readonly idle = new Map<string, Array<() => void>>();
  constructor(readonly deploymentName: string, replicas: ActorHandle<any>[]) {
    this.list = replicas;
  }

  /** The replicas calls go to now. */
  get replicas(): readonly ActorHandle<any>[] {
    return this.list;
  }

  /**
   * @internal Replaces the replica list (the dependency scaled, swapped or replaced a replica);
   * resolves once the calls in flight to the replicas dropped have finished.
   */
  setReplicas(replicas: ActorHandle<any>[]): Promise<void> {
    this.list = replicas;
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

  /** Calls `method(...args)` on one replica of the deployment. */
  async call<R = unknown>(method: string, ...args: unknown[]): Promise<R> {
    const list = this.list;
    const n = list.length;
    if (n === 0) throw new ReplicaUnavailableError(this.deploymentName, 'the handle has no replicas');
    let r = list[Math.floor(Math.random() * n)]!;
    if (n > 1) {
      const other = list[Math.floor(Math.random() * n)]!;
      if ((this.ongoing.get(other.actorId) ?? 0) < (this.ongoing.get(r.actorId) ?? 0)) r = other;
    }
    const id = r.actorId;
    this.ongoing.set(id, (this.ongoing.get(id) ?? 0) + 1);
    try {
      // Through INVOKE_METHOD: the replica counts the call as load its autoscaler sees. Arguments
      // that are ObjectRefs go as they did (resolved to values before the call), uncounted.
      if (args.some((a) => a instanceof ObjectRef)) return (await get((r as any)[method].remote(...args))) as R;
      return (await get((r as any)[INVOKE_METHOD].remote(method, args))) as R;
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
export async function updateHandles(deploymentName: string, replicas: ActorHandle<any>[]): Promise<number> {
  const set = live.get(deploymentName);
  if (!set) return 0;
  const drains: Promise<void>[] = [];
  for (const ref of set) {
    const h = ref.deref();
    if (!h) {
      set.delete(ref);
      continue;
    }
    drains.push(h.setReplicas(replicas));
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(drains), new Promise<void>((r) => (timer = setTimeout(r, HANDLE_DRAIN_MS)))]);
  clearTimeout(timer);
  return drains.length;
}

registerCodecClass({
  Class: DeploymentHandle,
  type: 0x30,
  write: (h: DeploymentHandle) => [h.deploymentName, h.replicas],
  read: ([name, replicas]: [string, ActorHandle<any>[]]) => track(new DeploymentHandle(name, replicas)),
});
