/**
 * Shapes of the head's control replies the CLI reads (`status`, `job-*`). Core exports NodeStatus
 * but not its job record, so the fields used here are declared here.
 */
import type { NodeStatus } from '../core/index.js';

export type JobStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';

export interface JobInfo {
  id: string;
  status: JobStatus;
  entrypoint: string;
  submittedAt: number;
  startedAt?: number | undefined;
  endedAt?: number | undefined;
  exitCode?: number | undefined;
  message?: string | undefined;
  pid?: number | undefined;
}

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
  head?: { address: string; version: string; hostname: string; dir: string; metricsPort: number } | undefined;
}

export const isFinished = (job: JobInfo): boolean => job.endedAt !== undefined || job.status === 'SUCCEEDED' || job.status === 'FAILED';
