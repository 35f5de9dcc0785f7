/** Public surface of the core runtime. */
export {
  init, shutdown, isInitialized, isMain, remote, actor, get, wait, put, cancel, free, getActor, kill,
  placementGroup, inPlacementGroup, clusterStatus, shoalHome, publish,
} from './api/api.js';
export type {
  InitOptions, ClusterInfo, RemoteFunction, RemoteArgs, ActorHandle, ActorClass, GetOptions, WaitOptions,
  PlacementGroup, PlacementGroupOptions, NodeStatus,
} from './api/api.js';
export type { TaskOptions, ActorOptions, SchedulingStrategyOption } from './api/options.js';
export { ObjectRef } from './api/object-ref.js';
export { serialize, deserialize, registerCodecClass } from './wire/serialization.js';
export {
  ShoalError, TaskError, OutOfMemoryError, WorkerDiedError, ActorDiedError, ActorNameTakenError, ActorNotFoundError,
  ActorMethodNotFoundError, ObjectFreedError, ObjectLostError, GetTimeoutError, TaskCancelledError,
  SerializationError, RemoteDefinitionError, BundleBuildError, ConnectionError, HeadUnavailableError, AuthenticationError,
  InvalidOptionError, invalidOption, markErrorClasses, NotInitializedError, VersionMismatchError, InfeasibleError, HeadStoreError, ProcessStartError,
  UnknownControlMethodError, InvalidControlRequestError, errorFromWire,
} from './errors.js';
export type { WireError } from './errors.js';
export { optionRules, showValue } from './option-rules.js';
export type { OptionRules } from './option-rules.js';
export { startLocalCluster } from './process/local-cluster.js';
export type { LocalCluster, LocalClusterOptions } from './process/local-cluster.js';
export { Head } from './head/head.js';
export type { HeadOptions, HeadInfo } from './head/head.js';
export type { HeadHost, HeadExtension, HeadEvent, HeadHttpHandler, HeadStatus, HeadTasksView } from './head/head-extension.js';
export type { TaskSummaryView, TaskNameSummary, TaskFailure, SlowTask } from './head/task-summary.js';
export { WorkerNode } from './worker/worker.js';
export type { WorkerOptions } from './worker/worker.js';
export { DriverRuntime } from './driver/driver.js';
export { Autoscaler } from './head/autoscaler.js';
export type { AutoscalerOptions, AutoscalerDecision, NodeProvider, SshProviderOptions } from './head/autoscaler.js';
export { HostUnreachableError, RemoteStartError, readRemoteFile, runScript, shellQuote, startRemote, stopRemote } from './process/remote-host.js';
export type { HostTarget, RemoteRuntime, StartedRemote, StoppedRemote } from './process/remote-host.js';
export { HeadClient } from './wire/head-client.js';
export type { HeadTarget } from './wire/head-client.js';
export { spawnEntry } from './process/spawn.js';
export type { JobRecord, HistoryKind, StoredRecords } from './head/head-store.js';
export { openHeadStore } from './head/open-head-store.js';
export { EVENTS_STORED, EVENT_MAX_AGE_MS } from './head/head-events.js';
export { PUBLISH_MAX_BYTES, PUBLISH_MAX_PER_SECOND } from './head/published.js';
export type { TlsOptions } from './wire/transport.js';
export type { Resources } from './wire/protocol.js';
export { SHOAL_VERSION, PACKAGE_ROOT, runtimeEntry } from './paths.js';
export { pidAlive } from './process/pid-alive.js';
export { SHARED_PACKAGES } from './wire/code-shipping.js';
export { sweepHandOverFiles } from './wire/shm-handover.js';
export { makePrivateDir, openPrivateFile, touchPrivateFile, writePrivateFile, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './private-files.js';
