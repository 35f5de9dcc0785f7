import { join } from 'node:path';
import { PACKAGE_ROOT } from '../core/index.js';

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
export { buildRunReport, reportMarkdown, reportHtml } from './pipelines/run-report.js';
export type { RunReport, RunReportOptions, ReportRow, ReportSide } from './pipelines/run-report.js';
export { checkData } from './pipelines/data-checks.js';
export type { DataChecks, CheckResult, ColumnKind } from './pipelines/data-checks.js';
export { MAX_LOG_LINES, MAX_LOG_LINE_CHARS } from './pipelines/step-logs.js';
export type { StepLogLine, LogStream } from './pipelines/step-logs.js';
export { addTrigger, postPipelineEvent } from './triggers/trigger-options.js';
export type { AddTriggerOptions } from './triggers/trigger-options.js';
export { TriggerRecords } from './triggers/trigger-records.js';
export type { TriggerRecord, TriggerSpec, TriggerKind, TriggerSeen, PipelineEvent } from './triggers/trigger-records.js';
export { TriggerState } from './triggers/trigger-state.js';
export type { RunLauncher, LaunchRequest, LaunchOutcome, Clock, TriggerStateOptions, Firing } from './triggers/trigger-state.js';
export { compileCron } from './triggers/cron.js';
export type { CronSchedule } from './triggers/cron.js';
export type { OverlapPolicy } from './triggers/overlap-policy.js';
export { cliLauncher } from './triggers/cli-launcher.js';
export { detectDrift, detectDriftInProcess, equalWidthEdges } from './monitoring/drift.js';
export type { ColumnDrift, DriftMethod, DriftReport, QualityAlert, QualityAlertKind } from './monitoring/drift.js';
export type { DriftOptions } from './monitoring/drift-options.js';
export { chooseBaseline, detectSeasonalDrift } from './monitoring/seasonal-baseline.js';
export type { BaselineChoice, TimeRange, SeasonalDriftOptions, SeasonalDriftReport } from './monitoring/seasonal-baseline.js';
export type { ColumnSummary, DriftKind } from './monitoring/column-summary.js';
export { MonitorRecords, driftResult } from './monitoring/monitor-records.js';
export type { MonitorResult, MonitorStatus, MonitorKind, AlertRecord, AlertSeverity, RecordRange } from './monitoring/monitor-records.js';
export { recordDrift } from './monitoring/drift-monitor.js';
export type { RecordDriftOptions } from './monitoring/drift-monitor.js';
export { onlineMetrics, outcomeWeights, DEFAULT_MATURITY_MS } from './feedback/online-metrics.js';
export type { Exposure, Outcome, OnlineMetricsOptions, OnlineGroupMetrics, OnlineMetricsReport } from './feedback/online-metrics.js';
export { readExposures } from './feedback/exposure-source.js';
export type { ExposureSource } from './feedback/exposure-source.js';
export { runFeedbackMonitor } from './feedback/feedback-monitor.js';
export type { FeedbackMonitorOptions } from './feedback/feedback-monitor.js';
export { twoProportionTest, normalSf } from './feedback/proportion-test.js';
export type { ProportionTest } from './feedback/proportion-test.js';
export { raiseAlert, webhookNotifier } from './alerts/alert-notifier.js';
export type { AlertNotifier, AlertInput, WebhookOptions, AlertWebhookBody } from './alerts/alert-notifier.js';
export { monitoringMetrics } from './alerts/monitoring-metrics.js';
export { RetrainingLoop } from './retraining/retraining-loop.js';
export type { RetrainingOptions, OutputPath } from './retraining/retraining-loop.js';
export type { RetrainingPolicy, PolicyFiring } from './retraining/retraining-policy.js';
export { DecisionRecords } from './retraining/decision-records.js';
export type { RetrainingDecision, RetrainingDecisionKind } from './retraining/decision-records.js';
export { serveCanary } from './retraining/canary-control.js';
export { monitorStatus, buildMonitorReport, monitorReportHtml } from './monitoring/monitor-report.js';
export type { MonitorStatus as MonitorStatusView, MonitorReport } from './monitoring/monitor-report.js';
export type { CanaryControl } from './retraining/canary-control.js';
export { detectOutputDrift, detectOutputDriftInProcess, outputStatistics, gini } from './monitoring/output-drift.js';
export type { OutputDriftOptions, OutputDriftReport, OutputStatistics, OutputAlert, OutputAlertKind } from './monitoring/output-drift.js';
export { ksStatistic, ksPValue, kolmogorovSf, chiSquare, wassersteinOnSupport, wassersteinSamples, jensenShannon } from './monitoring/drift-stats.js';

/** The head extension that holds pipeline schedules and triggers (extension.ts); `shoal start --head` loads it. */
export const PIPELINES_EXTENSION = join(PACKAGE_ROOT, 'dist', 'src', 'platform', 'extension.js');

export {
  PlatformError, PipelineDefinitionError, PipelineRunError, StepTimeoutError, StepOutputError, PipelineRunNotFoundError, PipelineModuleError,
  PipelineTriggerError, PipelineTriggerNotFoundError, DataCheckError, MonitoringInputError,
} from './errors.js';
export type { DefinitionProblem, TriggerProblem } from './errors.js';
