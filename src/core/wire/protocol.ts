/**
 * Messages on the session streams (driver ⇄ head, worker ⇄ head). Each frame carries a batch of
 * these, packed with msgpack. Discriminated by `t`.
 */
import type { WireError } from '../errors.js';

export type Resources = Record<string, number>;

/** Where a task may run. */
export type SchedulingStrategy =
  | 'DEFAULT'
  | 'SPREAD'
  | 'PACK'
  | { nodeId: string; soft: boolean }
  | { placementGroupId: string; bundleIndex: number };

export interface FunctionRef {
  /** Content hash of the code bundle that defines the function or class ('' for built-ins). */
  bundle: string;
  /** Built-in (defined inside shoal itself, e.g. the data layer): module path relative to the
   *  package root, imported from the worker's own installation. */
  module?: string | undefined;
  /** Registered name inside the bundle. */
  name: string;
  /** Where it was defined, for error messages. */
  definedAt: string;
}

export interface ActorCreateOptions {
  name?: string | undefined;
  /** When the name is taken, the new handle stands for the existing actor. */
  getIfExists?: boolean | undefined;
  maxConcurrency: number;
  maxRestarts: number;
  maxTaskRetries: number;
  detached: boolean;
  methods: string[];
}

export type TaskKind = 'task' | 'actor-create' | 'actor-call';

export interface TaskSpec {
  taskId: string;
  jobId: string;
  kind: TaskKind;
  /** Human-readable name: function name, `Class.method`, or the `name` option. */
  name: string;
  fn?: FunctionRef | undefined;
  actorId?: string | undefined;
  method?: string | undefined;
  /** Serialized argument array; top-level refs appear as ArgPlaceholder(i) → deps[i]. */
  args: Uint8Array;
  deps: string[];
  /** Ids of refs nested in the arguments (pinned while the task is pending). */
  nested: string[];
  resources: Resources;
  maxRetries: number;
  strategy: SchedulingStrategy;
  actor?: ActorCreateOptions | undefined;
  /** Where the submitting driver takes small results directly (ObjectTransfer.Deliver). */
  owner?: string | undefined;
}

/** How a worker gets a dependency: inline bytes, or the address of a node that holds it. */
export type DepSource = { inline: Uint8Array } | { address: string; size: number };

// ---------- client → head ----------
export interface HelloMsg {
  t: 'hello';
  role: 'driver' | 'worker';
  version: string;
  protocol: number;
  pid: number;
  hostname: string;
  /** Worker: its node id, resources and object-transfer address. */
  nodeId?: string;
  resources?: Resources;
  objectAddress?: string;
  /** Driver: the job it belongs to (set when started by `shoal submit`). */
  jobId?: string;
  entry?: string;
  /** Set when reconnecting after the session was lost (the head restarted): see ResumeReport. */
  resume?: ResumeReport;
}

/**
 * What a reconnecting process re-reports, so that a restarted head can rebuild what it kept only in
 * memory. The session keeps its id: actors, placement groups and objects it owns stay its own.
 */
export interface ResumeReport {
  sessionId: string;
  worker?: WorkerReport | undefined;
  driver?: DriverReport | undefined;
}

export interface WorkerReport {
  /** Objects in the node's store. */
  objects: Array<{ id: string; size: number }>;
  /**
   * Tasks and actor calls the node received and has not reported done on a live session: queued,
   * running, or finished while the head was away (their `done` follows the welcome), plus the ones
   * finished just before the loss (their `done` may have died with the head; it is sent again).
   */
  tasks: Array<{ spec: TaskSpec; attempt: number }>;
  /** Creation specs of the actors living on the node. */
  actors: TaskSpec[];
}

export interface DriverReport {
  /** Its put() objects it still references. */
  puts: PutMsg[];
  /** Results it already has inline (the head kept such values only in memory). */
  values: Array<{ id: string; inline: Uint8Array; nested: string[] }>;
  /** Tasks and actor calls it submitted whose results have not arrived, in submission order. */
  pending: TaskSpec[];
  /** Every object it references. */
  held: string[];
  /** The referenced objects it still waits for. */
  waiting: string[];
}
export interface SubmitMsg { t: 'submit'; specs: TaskSpec[] }
export interface PutMsg { t: 'put'; id: string; inline?: Uint8Array; size: number; nested: string[]; address?: string }
export interface SubscribeMsg { t: 'subscribe'; ids: string[] }
export interface ReleaseMsg { t: 'release'; ids: string[] }
export interface HoldMsg { t: 'hold'; ids: string[] }
export interface FreeMsg { t: 'free'; ids: string[] }
export interface CancelMsg { t: 'cancel'; id: string; force: boolean }
export interface KillActorMsg { t: 'kill-actor'; actorId: string; noRestart: boolean }
export interface HeartbeatMsg { t: 'heartbeat'; usage?: NodeUsage }
export interface TaskDoneMsg {
  t: 'done';
  taskId: string;
  /** Result: inline bytes, or the size of the object kept in the worker's store. */
  inline?: Uint8Array;
  size?: number;
  nested?: string[];
  error?: WireError;
  /** The failure is the system's (thread/worker died), not the task's: retry if allowed. */
  system?: boolean;
  /** Time the task ran in its thread. */
  ms?: number;
  /** The task could not start: this input's copy at this address could not be fetched. */
  lostInput?: { id: string; address: string };
}
export interface ActorDiedMsg { t: 'actor-died'; actorId: string; reason: string }
/** A task waits in get()/wait() (blocked) or stopped waiting: its CPU is lent out meanwhile. */
export interface TaskBlockedMsg { t: 'blocked'; taskId: string; blocked: boolean }
export interface ObjectLocationMsg { t: 'object-location'; id: string; size: number; removed?: boolean }

export interface NodeUsage {
  objectStoreBytes: number;
  /** The store's memory cap (past it, objects spill to disk). */
  objectStoreCapacityBytes?: number;
  spilledBytes: number;
  objects: number;
  runningTasks: number;
  queuedTasks: number;
  actors: number;
  rssBytes: number;
}

// ---------- head → client ----------
export interface WelcomeMsg { t: 'welcome'; sessionId: string; jobId: string; nodeId?: string; version: string }
export interface RefusedMsg { t: 'refused'; error: WireError }
export interface ReadyMsg {
  t: 'ready';
  id: string;
  inline?: Uint8Array;
  address?: string;
  size?: number;
  error?: WireError;
}
export interface ExecuteMsg { t: 'execute'; spec: TaskSpec; deps: Record<string, DepSource>; attempt: number }
export interface CancelTaskMsg { t: 'cancel-task'; taskId: string; force: boolean }
export interface KillActorOnNodeMsg { t: 'kill-actor'; actorId: string }
export interface FreeObjectsMsg { t: 'free'; ids: string[] }
/** The head had declared this node dead (silent too long): drop all work and state; it rejoins fresh. */
export interface ResetMsg { t: 'reset'; reason: string }

export type ClientMsg =
  | HelloMsg | SubmitMsg | PutMsg | SubscribeMsg | ReleaseMsg | HoldMsg | FreeMsg | CancelMsg
  | KillActorMsg | HeartbeatMsg | TaskDoneMsg | ObjectLocationMsg | ActorDiedMsg | TaskBlockedMsg;
export type HeadMsg =
  | WelcomeMsg | RefusedMsg | ReadyMsg | ExecuteMsg | CancelTaskMsg | KillActorOnNodeMsg | FreeObjectsMsg | ResetMsg;
