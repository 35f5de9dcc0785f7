/**
 * Public surface of the platform layer: pipelines — a DAG orchestrator on the cluster whose steps
 * are remote functions passing typed artifact references, with caching keyed on code, parameters and
 * input content, retries of system failures, timeouts and resume, every run recorded in the platform
 * store (see pipelines/runner.ts).
 */
export { step } from './pipelines/step.js';
export type { Step, StepOptions, StepContext } from './pipelines/step.js';
export { pipeline, fromParam, fromStep, constant, mapItem, isPipeline } from './pipelines/definition.js';
export type { Pipeline, PipelineSpec, PipelineNode, StepEntry, InputSource, ConditionContext } from './pipelines/definition.js';
export { param, compileParams } from './pipelines/params.js';
export type { ParamSpec, ParamType, ParamValues } from './pipelines/params.js';
export { isArtifactRef } from './pipelines/artifacts.js';
export type { ArtifactKind, ArtifactRef, FileArtifact, ModelArtifact, MetricsArtifact, DatasetArtifact } from './pipelines/artifacts.js';
export { runPipeline, resumePipeline } from './pipelines/runner.js';
export type { RunPipelineOptions, PipelineRunResult } from './pipelines/runner.js';
export { PipelineRecords } from './pipelines/pipeline-records.js';
export type { StepRecord, StepState, PipelineRunRecord, PipelineRunStatus, DagNode } from './pipelines/pipeline-records.js';
export { loadPipeline } from './pipelines/load-module.js';
export {
  PlatformError, PipelineDefinitionError, PipelineRunError, StepTimeoutError, StepOutputError, PipelineRunNotFoundError, PipelineModuleError,
} from './errors.js';
export type { DefinitionProblem } from './errors.js';
