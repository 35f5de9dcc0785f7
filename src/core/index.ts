/** Public surface of the core runtime. */
export {
  init, shutdown, isInitialized, isMain, remote, actor, get, wait, put, cancel, free, getActor, kill,
  placementGroup, inPlacementGroup, clusterStatus, shoalHome,
} from './api.js';
export type {
  InitOptions, ClusterInfo, RemoteFunction, RemoteArgs, ActorHandle, ActorClass, GetOptions, WaitOptions,
  PlacementGroup, PlacementGroupOptions, NodeStatus,
} from './api.js';
export type { TaskOptions, ActorOptions, SchedulingStrategyOption } from './options.js';
export { ObjectRef } from './object-ref.js';
export { serialize, deserialize } from './serialization.js';
export {
  ShoalError, TaskError, OutOfMemoryError, WorkerDiedError, ActorDiedError, ActorNotFoundError,
  ActorMethodNotFoundError, ObjectFreedError, ObjectLostError, GetTimeoutError, TaskCancelledError,
  SerializationError, RemoteDefinitionError, BundleBuildError, ConnectionError, HeadUnavailableError, AuthenticationError,
  InvalidOptionsError, NotInitializedError, VersionMismatchError, InfeasibleError, HeadStoreError, ProcessStartError,
} from './errors.js';
export { startLocalCluster, stopProcess } from './local-cluster.js';
export type { LocalCluster, LocalClusterOptions } from './local-cluster.js';
export { Head, ensureToken } from './head.js';
export type { HeadOptions, HeadInfo } from './head.js';
export { WorkerNode } from './worker.js';
export type { WorkerOptions } from './worker.js';
export { DriverRuntime } from './driver.js';
export { Autoscaler, LocalProcessProvider, SshNodeProvider } from './autoscaler.js';
export type { AutoscalerOptions, AutoscalerDecision, NodeProvider, SshProviderOptions } from './autoscaler.js';
export { HostUnreachableError, RemoteStartError, readRemoteFile, runScript, shellQuote, startRemote, stopRemote } from './remote-host.js';
export type { HostTarget, RemoteRuntime, StartedRemote, StoppedRemote } from './remote-host.js';
export { HeadClient, CONTROL_TIMEOUT_MS } from './head-client.js';
export type { HeadTarget } from './head-client.js';
export { spawnEntry } from './local-cluster.js';
export type { JobRecord } from './head-store.js';
export type { TlsOptions } from './transport.js';
export type { Resources } from './protocol.js';
export { SHOAL_VERSION, PACKAGE_ROOT, runtimeEntry } from './paths.js';
export { bundleModule } from './code-shipping.js';
