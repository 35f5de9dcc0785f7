/**
 * Public surface of the store layer: the platform's memory, above core alone — experiment tracking
 * (runs with params, metric time series, tags, artifacts), the model registry (versions, aliases with
 * history), models stored as JSON + binary tensors and loaded by URI, dataset versions and lineage,
 * on SQLite under `$SHOAL_HOME` or PostgreSQL (`SHOAL_METADATA_URL`). Also the checksummed artifact
 * folders that models, pipelines and checkpoints are saved as on disk.
 */
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../core/index.js';
import { Store } from './store.js';
import type { StoreOptions } from './store-location.js';

/**
 * The module a head imports to serve the store's REST API at /api/store/ behind the cluster token
 * (pass it in `HeadOptions.extensions`; `shoal start --head` does): the compiled one, as head
 * processes run from dist/.
 */
export const STORE_EXTENSION = join(PACKAGE_ROOT, 'dist', 'src', 'store', 'extension.js');

/** Opens the platform store (see {@link StoreOptions}: SQLite under `$SHOAL_HOME/store` unless `SHOAL_METADATA_URL` is set). */
export const openStore = (options?: StoreOptions): Promise<Store> => Store.open(options);

export { Store } from './store.js';
export type { SearchRunsOptions } from './store.js';
export { storeApi, STORE_API_PREFIX, RUNS_PAGE_DEFAULT, RUNS_PAGE_MAX, PIPELINE_RUNS_PAGE_DEFAULT, PIPELINE_RUNS_PAGE_MAX,
  STEP_LOG_PAGE_DEFAULT, STEP_LOG_PAGE_MAX,
} from './http/store-api.js';
export type {
  StoreApiOptions, StoreApiHandler, RunReply, MetricSeriesReply, PipelinesReply, PipelineRunsReply, PipelineRunReply, StepLogReply,
} from './http/store-api.js';
export { PipelineViews, pipelineRunOutcome } from './pipeline-views.js';
export type {
  PipelineRunSummary, PipelineRunView, PipelineStepView, PipelineDagNode, PipelineSummary, StepArtifactView, StepLogLineView, StepLogPage,
} from './pipeline-views.js';
export type { StoreApiErrorReply } from './http/http-json.js';
export { lineageGraph } from './lineage-graph.js';
export type { LineageGraph, LineageNode, LineageEdge, LineageNodeKind } from './lineage-graph.js';
export { Run } from './run.js';
export type { RunRef, StartRunOptions } from './run.js';
export { activeRun, withActiveRun, setActiveRun, openRun } from './active-run.js';
export { resolveStoreLocation, isPostgresUrl } from './store-location.js';
export type { StoreOptions, StoreLocation } from './store-location.js';
export type { SetAliasOptions } from './registry.js';
export type { Lineage, DatasetDetails, SnapshotSource } from './lineage.js';
export { parseModelUri } from './model-uri.js';
export type { ModelUri } from './model-uri.js';
export { parseRunFilter } from './run-filter.js';
export type { FilterableRun } from './run-filter.js';
export { STORED_MODEL_FORMAT } from './stored-model.js';
export type { ModelContents, StoredModel, Tensor, TensorDtype } from './stored-model.js';
export { STORE_SCHEMA_VERSION } from './sql/migrations.js';
export { HEARTBEAT_MS, STALE_MS } from './constants.js';
export type {
  RunStatus, Experiment, MetricPoint, ArtifactEntry, RunInput, RunInfo, RunDetail, RunComparison, RegisteredModel, ModelSignature, ModelVersion, AliasChange,
  DatasetFile, DatasetVersion,
} from './store-types.js';
export { writeArtifactFolder, readArtifactFolder, sha256Hex, bytesOf } from './artifact-folder.js';
export type {
  ArtifactFileEntry, ArtifactFolder, ArtifactFolderContents, CorruptErrorFactory, ReadArtifactOptions, SaveOptions,
} from './artifact-folder.js';
export {
  StoreError, ArtifactExistsError, ArtifactCorruptError, StoreSchemaError, StoreUnavailableError, StoreNotFoundError, RunNotFoundError,
  ExperimentNotFoundError, ArtifactNotFoundError, ModelNotFoundError, ModelVersionNotFoundError, AliasNotFoundError, InvalidNameError,
  InvalidModelUriError, FilterSyntaxError, RunEndedError, AliasConflictError, ModelFormatInvalidError, StoreRequestError, ArtifactWriteError,
} from './errors.js';
export type { StoreEntity } from './errors.js';
