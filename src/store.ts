/**
 * `shoal/store`: the platform's memory — experiment tracking, a model registry with aliases, models
 * loaded by URI, dataset versions and lineage — kept after the cluster ends (MLflow, ML Metadata and
 * DVC for TypeScript). SQLite under `$SHOAL_HOME/store` by default; PostgreSQL when
 * `SHOAL_METADATA_URL` is set.
 *
 * @example
 * ```ts
 * import { openStore } from 'shoal/store';
 * const store = await openStore();
 * const run = await store.startRun({ experiment: 'rental', params: { rank: 16 } });
 * for (let epoch = 0; epoch < 10; epoch++) run.logMetric('loss', 1 / (epoch + 1), epoch);
 * const uri = await run.logModel('model', { flavor: 'demo', tensors: { w: new Float32Array([1, 2]) } });
 * await run.end();
 * const v = await store.registerModel('demo', uri);
 * await store.setAlias('demo', 'champion', v.version, { reason: 'first' });
 * const model = await store.loadModel('models:/demo@champion');   // JSON + tensors, no code runs
 * const good = await store.searchRuns({ filter: "metrics.loss < 0.2 and params.rank = '16'" });
 * ```
 *
 * @packageDocumentation
 */
export {
  openStore, Store, Run, activeRun, withActiveRun, setActiveRun, openRun, resolveStoreLocation, parseModelUri, parseRunFilter,
  STORED_MODEL_FORMAT, STORE_SCHEMA_VERSION, HEARTBEAT_MS, STALE_MS, STORE_EXTENSION, storeApi, STORE_API_PREFIX, RUNS_PAGE_DEFAULT, RUNS_PAGE_MAX, PIPELINE_RUNS_PAGE_DEFAULT,
  PIPELINE_RUNS_PAGE_MAX, STEP_LOG_PAGE_DEFAULT, STEP_LOG_PAGE_MAX, lineageGraph,
  StoreError, ArtifactExistsError, ArtifactCorruptError, StoreSchemaError, StoreUnavailableError, StoreNotFoundError, RunNotFoundError,
  ExperimentNotFoundError, ArtifactNotFoundError, ModelNotFoundError, ModelVersionNotFoundError, AliasNotFoundError, InvalidNameError,
  InvalidModelUriError, FilterSyntaxError, RunEndedError, AliasConflictError, ModelFormatInvalidError, StoreRequestError, ArtifactWriteError,
} from './store/index.js';
export type {
  SearchRunsOptions, RunRef, StartRunOptions, StoreOptions, StoreLocation, SetAliasOptions, Lineage, DatasetDetails, SnapshotSource, ModelUri,
  FilterableRun, ModelContents, StoredModel, Tensor, TensorDtype, RunStatus, Experiment, MetricPoint, ArtifactEntry, RunInput, RunInfo, RunDetail,
  RegisteredModel, ModelSignature, ModelVersion, AliasChange, DatasetFile, DatasetVersion, StoreEntity, RunComparison,
  StoreApiOptions, StoreApiHandler, StoreApiErrorReply, RunReply, MetricSeriesReply, LineageGraph, LineageNode, LineageEdge, LineageNodeKind,
  PipelinesReply, PipelineRunsReply, PipelineRunReply, PipelineRunSummary, PipelineRunView, PipelineStepView, PipelineDagNode, PipelineSummary, StepArtifactView,
  StepLogReply, StepLogLineView, StepLogPage,
} from './store/index.js';
