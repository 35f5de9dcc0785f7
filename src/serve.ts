/**
 * `shoal/serve`: deployments of replicas (actors) behind an HTTP ingress — power-of-two-choices
 * routing, bounded queues, dynamic batching, autoscaling, hot swap, canary and shadow rollouts,
 * and an exposure log (Ray Serve, KServe, Seldon for TypeScript).
 *
 * @example
 * ```ts
 * // echo.ts — deployments live at the top level of a module (workers import it)
 * import { deployment, type ServeRequest } from 'shoal/serve';
 * export const Echo = deployment(class Echo { call(req: ServeRequest) { return { got: req.body }; } }, { numReplicas: 2 });
 *
 * // main.ts
 * import { init } from 'shoal';
 * import { createServeKey, startServe } from 'shoal/serve';
 * import { Echo } from './echo.js';
 * const { tokenFile } = await init();
 * const key = createServeKey();
 * const serve = await startServe({ clusterTokenFile: tokenFile, port: 8000 });
 * await serve.run(Echo.bind());
 * // curl -H "Authorization: Bearer $KEY" -d '{"x":1}' http://127.0.0.1:8000/Echo
 * ```
 *
 * @packageDocumentation
 */
export {
  deployment, Deployment, BoundDeployment, DeploymentHandle, handleCallCounts, ServeController, startServe, Serve, startDetachedServe, SERVE_ACTOR_NAME,
  createServeKey, loadServeKeyHashes, serveKeysFile, ParquetExposureLog, PostgresExposureLog,
  ServeError, OverloadedError, DeploymentNotFoundError, ReplicaUnavailableError, BadRequestError, BodyTooLargeError,
  UnauthorizedError, HealthCheckError, InvalidOptionError,
} from './serve/index.js';
export type {
  DeploymentOptions, AutoscalingOptions, BatchingOptions, AutoscaleDecision, DeployOptions, ServeStatus, ServeOptions,
  ExposureSink, ExposureLogOptions, ServeRequest, ExposureRecord,
} from './serve/index.js';
// Serving a model from the platform store's registry (registry-model.ts).
export { resolveRegistryModel, loadRegistryModel, deployFromRegistry, signatureDifferences, ModelSignatureMismatchError } from './serve/index.js';
export type { RegistryModel, RegistryModelOptions, RegistryDeployOptions, DeployTarget } from './serve/index.js';
