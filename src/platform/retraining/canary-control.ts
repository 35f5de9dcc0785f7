/**
 * How the retraining loop moves traffic: a small interface (start a canary, promote it, roll it
 * back), and its implementation over a serve controller — the canary is the candidate's deployment
 * bound by the caller's `bind(version)` (e.g. a registry deployment pinned to the version), taking
 * `weightPct`% of users, sticky by user; promotion is the rollout to 100 %, rollback the controller's
 * instant rollback.
 */
import type { BoundDeployment, DeployOptions, ServeController } from '../../serve/index.js';
import type { ModelVersion } from '../../store/index.js';

export interface CanaryControl {
  /** Sends `weightPct`% of users to `candidate` (the rest stay on the champion). */
  start(candidate: ModelVersion, weightPct: number): Promise<void>;
  /** Moves every user to `candidate` (a running canary, or straight away when there was no champion). */
  promote(candidate: ModelVersion): Promise<void>;
  /** Drops the canary: every user back on the champion. */
  rollback(candidate: ModelVersion): Promise<void>;
}

/**
 * A {@link CanaryControl} over deployment `deployment` of a serve controller; `deployOptions` (route,
 * holdout) apply when promotion deploys it for the first time (no champion before).
 */
export function serveCanary(controller: ServeController, deployment: string, bind: (version: ModelVersion) => BoundDeployment, deployOptions: DeployOptions = {}): CanaryControl {
  return {
    async start(candidate, weightPct) {
      await controller.rollout(deployment, bind(candidate), weightPct);
    },
    async promote(candidate) {
      const d = controller.deployments.get(deployment);
      if (d?.canary) await controller.rollout(deployment, undefined, 100);
      else await controller.deploy(bind(candidate), controller.deployments.has(deployment) ? {} : deployOptions);
    },
    async rollback() {
      if (controller.deployments.get(deployment)?.canary) await controller.rollback(deployment);
    },
  };
}
