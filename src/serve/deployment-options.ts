/**
 * Deployment options: what users pass (`DeploymentOptions`, all optional, Ray Serve's names and
 * defaults where it has them) and the validated form the controller runs on. Unknown keys are refused.
 */
import { invalidOption } from '../core/index.js';

export interface AutoscalingOptions {
  /** @default 1 */
  minReplicas?: number;
  /** @default max(minReplicas, 4) */
  maxReplicas?: number;
  /** Ongoing requests per replica the autoscaler aims at (Ray Serve's signal and default). @default 2 */
  targetOngoingRequests?: number;
  /** Seconds the signal must ask for more replicas before they are added. @default 30 (Ray Serve) */
  upscaleDelayS?: number;
  /** Seconds the signal must ask for fewer replicas before they are removed. @default 600 (Ray Serve) */
  downscaleDelayS?: number;
}

export interface BatchingOptions {
  /** Largest batch handed to the batch method. @default 16 */
  maxBatchSize?: number;
  /** How long the first request of a batch waits for others. @default 2 */
  batchWaitMs?: number;
  /** The replica method taking an array of requests and returning an array of answers. @default 'callBatch' */
  method?: string;
}

export interface DeploymentOptions {
  /** Name of the deployment (and default route prefix `/name`). @default the class name */
  name?: string;
  /** Fixed number of replicas (not with `autoscaling`). @default 1 */
  numReplicas?: number;
  autoscaling?: AutoscalingOptions;
  /** Requests one replica works on at once; a replica at this number gets no more. @default 8 */
  maxOngoingRequests?: number;
  /** Requests waiting for a free replica before the ingress answers 503. @default 64 */
  maxQueuedRequests?: number;
  /** Resources each replica reserves (`{ CPU: 1 }`). @default {} */
  resources?: Record<string, number>;
  batching?: BatchingOptions;
  /** Version label (shown in the `x-shoal-version` header). @default 'v1', 'v2', ... per deploy */
  version?: string;
}

export interface CompiledDeploymentOptions {
  name: string;
  numReplicas: number;
  autoscaling: Required<AutoscalingOptions> | undefined;
  maxOngoingRequests: number;
  maxQueuedRequests: number;
  resources: Record<string, number>;
  batching: Required<BatchingOptions> | undefined;
  version: string | undefined;
}

const KEYS = new Set(['name', 'numReplicas', 'autoscaling', 'maxOngoingRequests', 'maxQueuedRequests', 'resources', 'batching', 'version']);
const AUTO_KEYS = new Set(['minReplicas', 'maxReplicas', 'targetOngoingRequests', 'upscaleDelayS', 'downscaleDelayS']);
const BATCH_KEYS = new Set(['maxBatchSize', 'batchWaitMs', 'method']);

function refuseUnknown(o: object, known: Set<string>, where: string): void {
  for (const k of Object.keys(o)) {
    if (!known.has(k)) throw invalidOption(`${where}.${k}`, `is not an option (options are: ${[...known].join(', ')})`);
  }
}

function posInt(v: unknown, option: string, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw invalidOption(option, `must be an integer ≥ ${min} (got ${String(v)})`);
  return v;
}

function nonNeg(v: unknown, option: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalidOption(option, `must be a number ≥ 0 (got ${String(v)})`);
  return v;
}

export function compileDeploymentOptions(o: DeploymentOptions, className: string): CompiledDeploymentOptions {
  if (typeof o !== 'object' || o === null) throw invalidOption('options', 'must be an object');
  refuseUnknown(o, KEYS, 'options');
  const name = o.name ?? className;
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(name)) throw invalidOption('options.name', `must be letters, digits, _ or - (got ${String(name)})`);
  if (o.numReplicas !== undefined && o.autoscaling !== undefined) throw invalidOption('options.numReplicas', 'cannot be set with options.autoscaling');
  let autoscaling: Required<AutoscalingOptions> | undefined;
  if (o.autoscaling !== undefined) {
    const a = o.autoscaling;
    refuseUnknown(a, AUTO_KEYS, 'options.autoscaling');
    const minReplicas = posInt(a.minReplicas, 'options.autoscaling.minReplicas', 1, 0);
    const maxReplicas = posInt(a.maxReplicas, 'options.autoscaling.maxReplicas', Math.max(minReplicas, 4));
    if (maxReplicas < minReplicas) throw invalidOption('options.autoscaling.maxReplicas', `must be ≥ minReplicas (${minReplicas})`);
    const targetOngoingRequests = nonNeg(a.targetOngoingRequests, 'options.autoscaling.targetOngoingRequests', 2);
    if (targetOngoingRequests <= 0) throw invalidOption('options.autoscaling.targetOngoingRequests', 'must be > 0');
    autoscaling = {
      minReplicas, maxReplicas, targetOngoingRequests,
      upscaleDelayS: nonNeg(a.upscaleDelayS, 'options.autoscaling.upscaleDelayS', 30),
      downscaleDelayS: nonNeg(a.downscaleDelayS, 'options.autoscaling.downscaleDelayS', 600),
    };
  }
  let batching: Required<BatchingOptions> | undefined;
  if (o.batching !== undefined) {
    const b = o.batching;
    refuseUnknown(b, BATCH_KEYS, 'options.batching');
    const method = b.method ?? 'callBatch';
    if (typeof method !== 'string' || !method) throw invalidOption('options.batching.method', 'must be a method name');
    batching = { maxBatchSize: posInt(b.maxBatchSize, 'options.batching.maxBatchSize', 16), batchWaitMs: nonNeg(b.batchWaitMs, 'options.batching.batchWaitMs', 2), method };
  }
  const resources = o.resources ?? {};
  for (const [k, v] of Object.entries(resources)) {
    if (typeof v !== 'number' || !(v >= 0)) throw invalidOption(`options.resources.${k}`, `must be a number ≥ 0 (got ${String(v)})`);
  }
  if (o.version !== undefined && (typeof o.version !== 'string' || !o.version)) throw invalidOption('options.version', 'must be a non-empty string');
  return {
    name,
    numReplicas: autoscaling ? Math.max(autoscaling.minReplicas, 1) : posInt(o.numReplicas, 'options.numReplicas', 1),
    autoscaling,
    maxOngoingRequests: posInt(o.maxOngoingRequests, 'options.maxOngoingRequests', 8),
    maxQueuedRequests: posInt(o.maxQueuedRequests, 'options.maxQueuedRequests', 64, 0),
    resources,
    batching,
    version: o.version,
  };
}
