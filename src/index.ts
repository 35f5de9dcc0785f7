/**
 * shoal — a distributed compute framework for TypeScript: tasks, actors and objects on a cluster of
 * processes over gRPC. This entry point (`shoal`) is the core runtime's API only; the layers built on
 * it have entry points of their own, so a job that only runs tasks loads none of them:
 *
 * - `shoal/data` — the lazy distributed DataFrame (`readCsv`, `col`, `agg`, `window`, ...)
 * - `shoal/features` — featurizers, pipelines, trailing windows, point-in-time joins
 * - `shoal/train` — distributed ALS, `tune`, data-parallel TensorFlow.js (`@tensorflow/tfjs` and
 *   `@tensorflow/tfjs-backend-wasm` are optional peer dependencies, loaded only when training starts)
 *
 * @example
 * ```ts
 * // square.ts — remote functions live at the top level of a module (workers import it)
 * import { remote } from 'shoal';
 * export const square = remote(function square(x: number) {
 *   return x * x;
 * });
 *
 * // main.ts — `node main.js` (or `npx tsx main.ts`)
 * import { get, init, shutdown } from 'shoal';
 * import { square } from './square.js';
 * await init(); // no address: starts a local cluster (a head and a worker using all cores)
 * console.log(await get([1, 2, 3].map((x) => square.remote(x)))); // [ 1, 4, 9 ]
 * await shutdown();
 * ```
 *
 * @packageDocumentation
 */
export {
  init, shutdown, isInitialized, isMain, remote, actor, get, wait, put, cancel, free, getActor, kill,
  placementGroup, inPlacementGroup, clusterStatus, publish, ObjectRef, startLocalCluster, SHOAL_VERSION,
} from './core/index.js';
export {
  ShoalError, TaskError, OutOfMemoryError, WorkerDiedError, ActorDiedError, ActorNameTakenError, ActorNotFoundError,
  ActorMethodNotFoundError, ObjectFreedError, ObjectLostError, GetTimeoutError, TaskCancelledError,
  SerializationError, RemoteDefinitionError, BundleBuildError, ConnectionError, HeadUnavailableError, AuthenticationError,
  InvalidOptionError, NotInitializedError, VersionMismatchError, InfeasibleError, ProcessStartError,
  UnknownControlMethodError, InvalidControlRequestError,
} from './core/index.js';
export type {
  InitOptions, ClusterInfo, RemoteFunction, RemoteArgs, ActorHandle, ActorClass, GetOptions, WaitOptions,
  PlacementGroup, PlacementGroupOptions, NodeStatus, TaskOptions, ActorOptions, SchedulingStrategyOption,
  LocalCluster, LocalClusterOptions, TlsOptions, Resources,
} from './core/index.js';
