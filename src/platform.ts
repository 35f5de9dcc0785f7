/**
 * `shoal/platform`: pipelines on the cluster — steps are remote functions, their inputs and outputs
 * typed artifact references in the platform store, the DAG follows from what each step takes;
 * cached by code, parameters and input content; retried, timed out, resumed; recorded in the store.
 *
 * @example
 * ```ts
 * // pipeline.ts — `shoal pipeline run pipeline.ts --param n=100`
 * import { step, pipeline, param, fromParam, fromStep, type FileArtifact } from 'shoal/platform';
 * export const make = step('make', async ({ n }: { n: number }, ctx) => ({ data: await ctx.saveFile('data', Array.from({ length: n }, (_, i) => i).join('\n')) }));
 * export const count = step('count', async ({ data }: { data: FileArtifact }, ctx) => ({ lines: (await ctx.readText(data)).split('\n').length }));
 * export default pipeline('demo', {
 *   params: { n: param.int({ default: 10, min: 1 }) },
 *   steps: [
 *     { step: make, inputs: { n: fromParam('n') } },
 *     { step: count, inputs: { data: fromStep('make', 'data') } },
 *   ],
 * });
 * ```
 *
 * @packageDocumentation
 */
export {
  step, pipeline, fromParam, fromStep, constant, mapItem, isPipeline, param, compileParams, isArtifactRef, runPipeline, resumePipeline, PipelineRecords,
  loadPipeline, PlatformError, PipelineDefinitionError, PipelineRunError, StepTimeoutError, StepOutputError, PipelineRunNotFoundError, PipelineModuleError,
  PipelineTriggerError, PipelineTriggerNotFoundError, addTrigger, postPipelineEvent, TriggerRecords, TriggerState, compileCron, cliLauncher, PIPELINES_EXTENSION,
  MAX_LOG_LINES, MAX_LOG_LINE_CHARS, buildRunReport, reportMarkdown, reportHtml, checkData, DataCheckError,
  detectDrift, detectDriftInProcess, equalWidthEdges, ksStatistic, ksPValue, kolmogorovSf, chiSquare, wassersteinOnSupport, wassersteinSamples, jensenShannon, MonitoringInputError,
  chooseBaseline, detectSeasonalDrift, MonitorRecords, driftResult, recordDrift, onlineMetrics, outcomeWeights, DEFAULT_MATURITY_MS, readExposures,
  runFeedbackMonitor, twoProportionTest, normalSf, raiseAlert, webhookNotifier, monitoringMetrics, RetrainingLoop, DecisionRecords, serveCanary,
  monitorStatus, buildMonitorReport, monitorReportHtml,
  detectOutputDrift, detectOutputDriftInProcess, outputStatistics, gini,
} from './platform/index.js';
export type {
  Step, StepOptions, StepContext, Pipeline, PipelineSpec, PipelineNode, StepEntry, InputSource, ConditionContext, ParamSpec, ParamType, ParamValues,
  ArtifactKind, ArtifactRef, FileArtifact, ModelArtifact, MetricsArtifact, DatasetArtifact, RunPipelineOptions, PipelineRunResult, StepRecord, StepState,
  PipelineRunRecord, PipelineRunStatus, DagNode, DefinitionProblem, TriggerProblem, AddTriggerOptions, TriggerRecord, TriggerSpec, TriggerKind, TriggerSeen,
  PipelineEvent, RunLauncher, LaunchRequest, LaunchOutcome, Clock, TriggerStateOptions, Firing, CronSchedule, OverlapPolicy, StepLogLine, LogStream, RunReport, RunReportOptions, ReportRow, ReportSide, DataChecks, CheckResult, ColumnKind,
  ColumnDrift, DriftMethod, DriftReport, QualityAlert, QualityAlertKind, DriftOptions, ColumnSummary, DriftKind,
  BaselineChoice, TimeRange, SeasonalDriftOptions, SeasonalDriftReport,
  MonitorResult, MonitorStatus, MonitorKind, AlertRecord, AlertSeverity, RecordRange, RecordDriftOptions, Exposure, Outcome, OnlineMetricsOptions,
  OnlineGroupMetrics, OnlineMetricsReport, ExposureSource, FeedbackMonitorOptions, ProportionTest, AlertNotifier, AlertInput, WebhookOptions,
  AlertWebhookBody, RetrainingOptions, OutputPath, RetrainingPolicy, PolicyFiring, RetrainingDecision, RetrainingDecisionKind, CanaryControl,
  MonitorStatusView, MonitorReport,
  OutputDriftOptions, OutputDriftReport, OutputStatistics, OutputAlert, OutputAlertKind,
} from './platform/index.js';
