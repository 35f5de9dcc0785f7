/**
 * A handle to a deployment, for one deployment to call another (an ingress that looks up features,
 * calls the model and formats the answer). Bound deployments passed as constructor arguments arrive
 * in the replica as handles. The handle routes by power of two choices on the calls it has in
 * flight itself, over the replicas the dependency had when the caller was deployed.
 */
import { get, registerCodecClass, type ActorHandle } from '../core/index.js';
import { ReplicaUnavailableError } from './errors.js';

export class DeploymentHandle {
  private readonly ongoing: number[];
  constructor(readonly deploymentName: string, readonly replicas: ActorHandle<any>[]) {
    this.ongoing = replicas.map(() => 0);
  }

  /** Calls `method(...args)` on one replica of the deployment. */
  async call<R = unknown>(method: string, ...args: unknown[]): Promise<R> {
    const n = this.replicas.length;
    if (n === 0) throw new ReplicaUnavailableError(this.deploymentName, 'the handle has no replicas');
    let i = Math.floor(Math.random() * n);
    if (n > 1) {
      const j = (i + 1 + Math.floor(Math.random() * (n - 1))) % n;
      if (this.ongoing[j]! < this.ongoing[i]!) i = j;
    }
    this.ongoing[i]!++;
    try {
      return (await get((this.replicas[i] as any)[method].remote(...args))) as R;
    } finally {
      this.ongoing[i]!--;
    }
  }
}

registerCodecClass({
  Class: DeploymentHandle,
  type: 0x30,
  write: (h: DeploymentHandle) => [h.deploymentName, h.replicas],
  read: ([name, replicas]: [string, ActorHandle<any>[]]) => new DeploymentHandle(name, replicas),
});
