/** Shapes of the head's control replies the CLI reads (`status`, `job-*`). */
import type { AutoscalerDecision, AutoscalerOptions, JobRecord, NodeStatus } from '../core/index.js';

export type JobInfo = JobRecord;

export interface ActorInfo {
  id: string;
  name: string;
  className?: string | undefined;
  state: string;
  nodeId?: string | undefined;
  restarts?: number | undefined;
}

export interface StatusReply {
  nodes: NodeStatus[];
  tasks: { pending: number; running: number };
  actors: ActorInfo[];
  jobs: JobInfo[];
  head?: { address: string; version: string; hostname: string; dir: string; metricsPort: number; httpUrl?: string | undefined; httpMounts?: Record<string, string> | undefined } | undefined;
  autoscaler?: { provider: string; options: AutoscalerOptions; decisions: AutoscalerDecision[] } | undefined;
}
