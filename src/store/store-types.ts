/** The records the store returns: plain data, the same from every backend. */

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface Experiment {
  id: string;
  name: string;
  description: string | null;
  createdAt: number;
}

/** One point of a metric's time series. */
export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

export interface ArtifactEntry {
  path: string;
  sha256: string;
  bytes: number;
}

export interface RunInput {
  kind: 'dataset' | 'feature-pipeline' | 'run';
  ref: string;
  role: string;
}

export interface RunInfo {
  id: string;
  experimentId: string;
  experimentName: string;
  name: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  parentRunId: string | null;
  codeHash: string | null;
  gitCommit: string | null;
  /** Why a run FAILED when its owner process died (or the reason given to `end`). */
  failure: string | null;
  ownerHost: string | null;
  ownerPid: number | null;
  params: Record<string, string>;
  /** Latest value of each metric. */
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

export interface RunDetail extends RunInfo {
  artifacts: ArtifactEntry[];
  inputs: RunInput[];
  children: string[];
}

/** Two runs and the history of each metric both logged (what `shoal runs compare` reports). */
export interface RunComparison {
  a: RunDetail;
  b: RunDetail;
  histories: Record<string, { a: MetricPoint[]; b: MetricPoint[] }>;
}

export interface RegisteredModel {
  name: string;
  description: string | null;
  createdAt: number;
  updatedAt: number;
  latestVersion: number | null;
  aliases: Record<string, number>;
  tags: Record<string, string>;
}

/** The input/output description stored with a model (checked by serving before it loads one). */
export interface ModelSignature {
  inputs: ReadonlyArray<{ name: string; type: string; shape?: ReadonlyArray<number | null> | undefined }>;
  outputs: ReadonlyArray<{ name: string; type: string; shape?: ReadonlyArray<number | null> | undefined }>;
}

export interface ModelVersion {
  name: string;
  version: number;
  runId: string | null;
  /** Where its files are: `runs:/<id>/<path>`. */
  source: string;
  description: string | null;
  signature: ModelSignature | null;
  createdAt: number;
  aliases: string[];
  tags: Record<string, string>;
}

export interface AliasChange {
  name: string;
  alias: string;
  version: number | null;
  previousVersion: number | null;
  setAt: number;
  setBy: string;
  reason: string | null;
}

export interface DatasetFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface DatasetVersion {
  /** `<name>@<first 16 hex digits of the content digest>`: the same content gives the same version. */
  id: string;
  name: string;
  kind: 'files' | 'postgres';
  /** What was read: for files the digest of the file set, for PostgreSQL the table/query and its snapshot. */
  source: Record<string, unknown>;
  schema: Record<string, string> | null;
  rowCount: number | null;
  profile: Record<string, unknown> | null;
  createdAt: number;
  files: DatasetFile[];
}
