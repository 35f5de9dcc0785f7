/**
 * Errors of the platform layer (pipelines). Each extends {@link PlatformError} (a ShoalError) with a
 * stable `code` and readonly context naming the pipeline, step or run at fault, and works with
 * `instanceof` across realms and across the wire.
 */
import { markErrorClasses, ShoalError } from '../core/index.js';

/** Root of the platform layer's errors. */
export class PlatformError extends ShoalError {
  override readonly code: string = 'PLATFORM_ERROR';
}

/** What is wrong with a pipeline definition. */
export type DefinitionProblem = 'cycle' | 'unknown-step' | 'unknown-output' | 'unknown-param' | 'duplicate-step' | 'invalid';

/**
 * Thrown by `pipeline()` (at definition time, before anything runs) when the definition is not a
 * DAG of known steps: a cycle (`steps` lists it in order), an input naming a step or parameter that
 * does not exist, two steps of one name, or a malformed step entry.
 */
export class PipelineDefinitionError extends PlatformError {
  override readonly code = 'PIPELINE_DEFINITION';
  constructor(readonly pipeline: string, readonly problem: DefinitionProblem, readonly steps: readonly string[], detail: string) {
    super(`pipeline '${pipeline}': ${detail}`);
  }
  override context() {
    return { pipeline: this.pipeline, problem: this.problem, steps: this.steps };
  }
}

/**
 * A run of a pipeline failed: `step` names the first step that failed (`failedSteps` all of them);
 * steps downstream of it did not run, steps upstream kept their outputs. `runId` is the pipeline
 * run, to `resumePipeline` or `shoal pipeline show`.
 */
export class PipelineRunError extends PlatformError {
  override readonly code = 'PIPELINE_RUN_FAILED';
  constructor(readonly pipeline: string, readonly runId: string, readonly step: string, readonly failedSteps: readonly string[], detail: string, options?: { cause?: unknown }) {
    super(`pipeline '${pipeline}' run ${runId} failed at step '${step}': ${detail}`, options);
  }
  override context() {
    return { pipeline: this.pipeline, runId: this.runId, step: this.step, failedSteps: this.failedSteps };
  }
}

/** A step ran longer than its `timeoutMs`: its task was cancelled. Not retried. */
export class StepTimeoutError extends PlatformError {
  override readonly code = 'STEP_TIMEOUT';
  constructor(readonly step: string, readonly timeoutMs: number) {
    super(`step '${step}' did not finish within its timeout of ${timeoutMs} ms; its task was cancelled`);
  }
  override context() {
    return { step: this.step, timeoutMs: this.timeoutMs };
  }
}

/** A step returned something other than a plain object of outputs, or an output that cannot be stored as JSON. */
export class StepOutputError extends PlatformError {
  override readonly code = 'STEP_OUTPUT';
  constructor(readonly step: string, detail: string) {
    super(`step '${step}': ${detail}`);
  }
  override context() {
    return { step: this.step };
  }
}

/** No pipeline run with this id in the store (or the run is not a pipeline run). */
export class PipelineRunNotFoundError extends PlatformError {
  override readonly code = 'PIPELINE_RUN_NOT_FOUND';
  constructor(readonly runId: string) {
    super(`no pipeline run ${JSON.stringify(runId)} in the store`);
  }
  override context() {
    return { runId: this.runId };
  }
}

/** A module given to `shoal pipeline run` (or `loadPipeline`) does not export a pipeline. */
export class PipelineModuleError extends PlatformError {
  override readonly code = 'PIPELINE_MODULE';
  constructor(readonly module: string, detail: string, options?: { cause?: unknown }) {
    super(`${module}: ${detail}`, options);
  }
  override context() {
    return { module: this.module };
  }
}

/** What about a trigger is wrong: its cron expression, its spec, its source (folder, table), its overlap policy. */
export type TriggerProblem = 'cron' | 'spec' | 'source' | 'overlap';

/**
 * A schedule or trigger cannot be made (or no longer works): a cron expression croner refuses, an
 * option out of its rule, a folder that does not exist, a table that cannot be read. `option`
 * names the option at fault, `trigger` the trigger (`(new)` before it has an id).
 */
export class PipelineTriggerError extends PlatformError {
  override readonly code = 'PIPELINE_TRIGGER';
  constructor(readonly trigger: string, readonly problem: TriggerProblem, readonly option: string, detail: string, options?: { cause?: unknown }) {
    super(`pipeline trigger ${trigger}: ${option} ${detail}`, options);
  }
  override context() {
    return { trigger: this.trigger, problem: this.problem, option: this.option };
  }
}

/** No schedule or trigger with this id in the store. */
export class PipelineTriggerNotFoundError extends PlatformError {
  override readonly code = 'PIPELINE_TRIGGER_NOT_FOUND';
  constructor(readonly trigger: string) {
    super(`no pipeline schedule or trigger ${JSON.stringify(trigger)} in the store`);
  }
  override context() {
    return { trigger: this.trigger };
  }
}

/**
 * A data check of a validate step failed (data-checks.ts): `check` names the first that failed,
 * `failedChecks` all of them. Thrown in a step, it fails the step and the run with the check named.
 */
export class DataCheckError extends PlatformError {
  override readonly code = 'DATA_CHECK_FAILED';
  readonly check: string;
  /** `found` says, per failed check, what was found. */
  constructor(readonly dataset: string, readonly failedChecks: readonly string[], found: readonly string[]) {
    const more = failedChecks.slice(1).map((c, i) => `${c}: ${found[i + 1]}`);
    super(`dataset '${dataset}' failed check '${failedChecks[0]}': ${found[0]}${more.length ? ` (and ${more.length} more: ${more.join('; ')})` : ''}`);
    this.check = failedChecks[0]!;
  }
  override context() {
    return { dataset: this.dataset, check: this.check, failedChecks: this.failedChecks };
  }
}

markErrorClasses('shoal/platform', {
  PlatformError, PipelineDefinitionError, PipelineRunError, StepTimeoutError, StepOutputError, PipelineRunNotFoundError, PipelineModuleError,
  PipelineTriggerError, PipelineTriggerNotFoundError, DataCheckError,
});
