/**
 * The records the head keeps (nodes, objects, tasks, actors, placement groups, what the store
 * holds of them) and the context its managers share. Each manager owns its table; the others
 * reach it through the context, all on the head's event loop.
 */
import type { WireError } from '../errors.js';
import type { HeadStore } from './head-store.js';
import type { ClientMsg, DriverReport, HeadMsg, NodeUsage, Resources, TaskSpec } from '../wire/protocol.js';
import type { NodeView, PlacementStrategy } from './scheduling-policy.js';
import type { ActorManager } from './actor-manager.js';
import type { NodeManager } from './node-manager.js';
import type { ObjectDirectory } from './object-directory.js';
import type { PlacementGroupManager } from './placement-group-manager.js';
import type { RecoveryManager } from './recovery-manager.js';
import type { TaskScheduler } from './task-scheduler.js';
import type { TaskSummary } from './task-summary.js';

export interface SessionHandle {
  id: string;
  role: 'driver' | 'worker';
  jobId: string;
  nodeId?: string | undefined;
  /** A worker's registration, kept to re-admit it after a false death. */
  nodeInfo?: { nodeId: string; resources: Resources; address: string; hostname: string } | undefined;
  send(msg: HeadMsg): void;
}

export interface NodeState extends NodeView {
  address: string;
  hostname: string;
  sessionId: string;
  lastSeen: number;
  usage?: NodeUsage | undefined;
  avgTaskMs: number;
  startedAt: number;
  dispatched: Set<string>;
}

export type ObjectState = 'pending' | 'ready' | 'error';

export interface ObjectEntry {
  id: string;
  state: ObjectState;
  inline?: Uint8Array | undefined;
  size: number;
  /** Node ids (or `session:<id>` for a driver's store) holding a copy. */
  locations: Set<string>;
  error?: WireError | undefined;
  /** Sessions holding a reference. */
  holders: Set<string>;
  /** Pending tasks using it plus objects containing it. */
  pins: number;
  nested: string[];
  subscribers: Set<string>;
  /** Task that makes it (lineage), while the object is referenced. */
  producer?: string | undefined;
  /**
   * For a placeholder (a ref heard of before its put): where the put is to come from — a node id
   * or `session:<id>`. If that goes away first, the object is lost rather than awaited forever.
   */
  awaitedFrom?: string | undefined;
}

export type TaskState = 'waiting' | 'queued' | 'running' | 'done';

export interface TaskRecord {
  spec: TaskSpec;
  owner: string;
  state: TaskState;
  pendingDeps: number;
  attempts: number;
  nodeId?: string | undefined;
  plain: boolean;
  /** Resources deducted exactly (non-plain tasks and actors). */
  deducted?: Resources | undefined;
  /** Resources deducted from a placement group bundle. */
  bundle?: { pg: string; index: number } | undefined;
  classKey: string;
  startedAt?: number;
  /** Waiting in get()/wait(): its CPU is lent out. */
  blocked?: boolean;
  /** Re-reported running by a worker after a head restart: its inputs were never pinned here. */
  adopted?: boolean;
}

export type ActorState = 'pending' | 'alive' | 'restarting' | 'dead';

export interface ActorRecord {
  id: string;
  name: string;
  className: string;
  methods: string[];
  createTask: string;
  state: ActorState;
  nodeId?: string | undefined;
  restarts: number;
  maxRestarts: number;
  maxTaskRetries: number;
  owner: string;
  detached: boolean;
  /** Calls not yet sent to the actor's node, in submission order. */
  queue: TaskRecord[];
  inflight: Map<string, TaskRecord>;
  deathReason?: string | undefined;
  /** What its calls fail with, when not an ActorDiedError (a taken name). */
  deathError?: WireError | undefined;
}

export interface PlacementGroupRecord {
  id: string;
  bundles: Resources[];
  strategy: PlacementStrategy;
  state: 'pending' | 'created' | 'removed';
  nodes: string[];
  available: Resources[];
  owner: string;
  waiters: Array<(err?: Error) => void>;
}

export interface HeadCounters {
  tasksSubmitted: number;
  tasksFinished: number;
  tasksFailed: number;
  tasksRetried: number;
  objectsReconstructed: number;
}

export const driverLocation = (sessionId: string): string => `session:${sessionId}`;

/** Where the head persists its durable metadata (never tasks or objects). */
export type StateSink = Pick<HeadStore, 'put' | 'delete'>;

/** What the store keeps of an actor. */
export interface StoredActor {
  id: string;
  name: string;
  className: string;
  methods: string[];
  createSpec: TaskSpec;
  state: ActorState;
  nodeId?: string | undefined;
  restarts: number;
  maxRestarts: number;
  maxTaskRetries: number;
  owner: string;
  detached: boolean;
  named: boolean;
}

export interface StoredPlacementGroup { id: string; bundles: Resources[]; strategy: PlacementStrategy; owner: string }
export interface StoredSession { id: string; role: 'driver' | 'worker'; jobId: string; nodeId?: string | undefined }
export interface StoredNode { nodeId: string; resources: Resources; address: string; hostname: string }

/**
 * After a restart from a store: the sessions and nodes the previous head knew, until they come back
 * or the grace period ends. Drivers that come back wait (their report and messages parked) until
 * every worker has re-reported, so that a task a worker still runs is never started again.
 */
export interface Recovery {
  sessions: Set<string>;
  nodes: Set<string>;
  /** Node each restored actor lived on before the restart. */
  actorNodes: Map<string, string>;
  /** Actors a worker re-reported. */
  confirmed: Set<string>;
  parked: Map<string, { session: SessionHandle; report: DriverReport | undefined; msgs: ClientMsg[] }>;
  timer: NodeJS.Timeout;
}

/** What the managers share with the HeadState that wires them (it owns these). */
export interface HeadShared {
  readonly sessions: Map<string, SessionHandle>;
  readonly counters: HeadCounters;
  /** Finished tasks by name, slowest runs and last failures. */
  readonly taskSummary: TaskSummary;
  /** Durable metadata goes here (set by the head once its store is open). */
  readonly persist?: StateSink | undefined;
  onEvent(event: string, fields: Record<string, unknown>): void;
  /** Handles one message from a session (recovery replays parked messages through it). */
  handle(msg: ClientMsg, s: SessionHandle): void;
}

/** The managers of the head, one per concern, each reaching the others through this. */
export interface HeadContext {
  readonly head: HeadShared;
  readonly nodes: NodeManager;
  readonly objects: ObjectDirectory;
  readonly scheduler: TaskScheduler;
  readonly actors: ActorManager;
  readonly groups: PlacementGroupManager;
  readonly recovery: RecoveryManager;
}

/** The scheduling class of a task: tasks of one class queue together, in order. */
export function classKeyOf(spec: TaskSpec): string {
  const s = spec.strategy;
  const strat = typeof s === 'string' ? s : 'nodeId' in s ? `node:${s.nodeId}:${s.soft}` : `pg:${s.placementGroupId}:${s.bundleIndex}`;
  const res = Object.keys(spec.resources).sort().map((k) => `${k}=${spec.resources[k]}`).join(',');
  return `${spec.kind}|${res}|${strat}`;
}

