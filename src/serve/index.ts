/** Public surface of the serve layer. */
export { deployment, Deployment, BoundDeployment } from './deployment.js';
export type { DeploymentOptions, AutoscalingOptions, BatchingOptions } from './deployment-options.js';
export { DeploymentHandle, handleCallCounts } from './deployment-handle.js';
export { ServeController } from './controller.js';
export type { AutoscaleDecision, DeployOptions, ServeStatus } from './controller.js';
export { startServe, Serve } from './serve-instance.js';
export type { ServeOptions } from './serve-instance.js';
export { startDetachedServe, SERVE_ACTOR_NAME } from './serve-host.js';
export type { DetachedServeOptions } from './serve-host.js';
export { createServeKey, loadServeKeyHashes, serveKeysFile } from './serve-keys.js';
export { ParquetExposureLog, PostgresExposureLog } from './exposure-log.js';
export type { ExposureSink, ExposureLogOptions } from './exposure-log.js';
export type { ServeRequest, ExposureRecord } from './serve-types.js';
export {
  ServeError, OverloadedError, DeploymentNotFoundError, ReplicaUnavailableError, BadRequestError, BodyTooLargeError,
  UnauthorizedError, HealthCheckError, InvalidOptionError, ModelSignatureMismatchError,
} from './errors.js';
export { resolveRegistryModel, loadRegistryModel, deployFromRegistry, signatureDifferences } from './registry-model.js';
export type { RegistryModel, RegistryModelOptions, RegistryDeployOptions, DeployTarget } from './registry-model.js';
