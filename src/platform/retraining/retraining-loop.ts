/**
 * Automated retraining, closed into a loop: policies fire the training pipeline; its candidate is
 * gated offline against the champion; a candidate that passes goes out as a canary; the canary is
 * promoted or rolled back on its online metrics against the champion, by a stated rule. Every step
 * is a decision recorded in the platform store with its reason and evidence (decision-records.ts),
 * and a failure raises an alert while the champion stays.
 *
 * One `tick(now)` does at most one step, so a loop driven by a timer, a cron or a test reads the
 * same: if the newest decision says a canary is out, judge it; else check the policies.
 *
 * The canary rule: once each arm (canary, stable) has at least `minExposures` judged exposures in
 * the newest result of the feedback monitor taken after the canary started, the canary is rolled
 * back when its hit rate is lower than the champion's with one-sided p < `alpha` (pooled
 * two-proportion z-test), and promoted otherwise. A canary that has not reached the sample within
 * `maxCanaryMs` is rolled back (it could not be judged; the champion is the safe side).
 *
 * The offline gate: the pipeline's metrics output holds the candidate's `metric`; the champion's is
 * `champion.<metric>` in the same output when the pipeline evaluated the champion on the same data
 * (it gets the champion's URI as parameter `championParam` when it declares one), else the
 * `offline.<metric>` tag this loop put on the champion's version when it registered it.
 */
import type { ModelVersion, Store } from '../../store/index.js';
import { optionRules } from '../../core/index.js';
import { ModelNotFoundError } from '../../store/index.js';
import { raiseAlert, type AlertNotifier } from '../alerts/alert-notifier.js';
import { twoProportionTest } from '../feedback/proportion-test.js';
import type { OnlineMetricsReport } from '../feedback/online-metrics.js';
import { MonitorRecords } from '../monitoring/monitor-records.js';
import { parseRunsUri } from '../pipelines/artifacts.js';
import type { Pipeline } from '../pipelines/definition.js';
import { runPipeline, type PipelineRunResult } from '../pipelines/runner.js';
import type { CanaryControl } from './canary-control.js';
import { DecisionRecords, type RetrainingDecision, type RetrainingDecisionKind } from './decision-records.js';
import { checkPolicies, firstFiring, pct, type PolicyFiring, type RetrainingPolicy } from './retraining-policy.js';

/** Where in the pipeline's outputs a thing is: `outputs[step][output]`. */
export interface OutputPath {
  step: string;
  output: string;
}

export interface RetrainingOptions {
  store: Store;
  /** The registered model the loop keeps (`champion` and `candidate` aliases). */
  model: string;
  /** The training pipeline (its run must output a model artifact and a metrics artifact). */
  pipeline: Pipeline;
  /** Parameters of every run. */
  params?: Record<string, unknown>;
  /** The pipeline parameter that receives the champion's model URI, when the pipeline declares it. @default 'champion' */
  championParam?: string;
  policies: RetrainingPolicy[];
  /** The candidate model in the pipeline's outputs. @default { step: 'train', output: 'model' } */
  modelOutput?: OutputPath;
  /** The offline metrics in the pipeline's outputs. @default { step: 'evaluate', output: 'metrics' } */
  metricsOutput?: OutputPath;
  /** The offline gate: candidate − champion on `metric` must be ≥ `minImprovement` (sign flipped when lower is better). */
  gate: { metric: string; higherIsBetter?: boolean; minImprovement?: number };
  canary: CanaryControl;
  /** The canary's share of users, percent. @default 10 */
  canaryWeightPct?: number;
  /** The feedback monitor whose results judge the canary. @default 'feedback' */
  feedbackMonitor?: string;
  /** Minimum judged exposures per arm before the canary is judged. @default 1000 */
  minExposures?: number;
  /** One-sided significance level of the canary test. @default 0.05 */
  alpha?: number;
  /** A canary not judged by then is rolled back. @default 7 days */
  maxCanaryMs?: number;
  /**
   * The version string serving reports for a registered version (`x-shoal-version`, the exposure
   * log's `model_version`): the canary arm is then judged on that version's exposures only.
   * @default every exposure of the canary arm
   */
  servingVersion?: (version: ModelVersion) => string;
  notifier?: AlertNotifier;
  /** Runs the pipeline (default: `runPipeline` on the connected cluster, recorded in `store`). */
  launch?: (params: Record<string, unknown>) => Promise<PipelineRunResult>;
}

interface Compiled extends Required<Omit<RetrainingOptions, 'notifier' | 'launch' | 'params' | 'gate' | 'servingVersion'>> {
  servingVersion: ((version: ModelVersion) => string) | undefined;
  gate: { metric: string; higherIsBetter: boolean; minImprovement: number };
  params: Record<string, unknown>;
  notifier: AlertNotifier | undefined;
  launch: (params: Record<string, unknown>) => Promise<PipelineRunResult>;
}

const KNOWN = [
  'store', 'model', 'pipeline', 'params', 'championParam', 'policies', 'modelOutput', 'metricsOutput', 'gate', 'canary', 'canaryWeightPct', 'feedbackMonitor',
  'minExposures', 'alpha', 'maxCanaryMs', 'notifier', 'launch', 'servingVersion',
];

function compile(options: RetrainingOptions): Compiled {
  const r = optionRules('RetrainingLoop');
  const o = r.object(options);
  r.knownKeys(o, KNOWN);
  if (!o.store) r.fail('store', 'is required (the platform store)');
  if (typeof o.model !== 'string' || !o.model) r.fail('model', 'must name the registered model', o.model);
  if (!o.pipeline) r.fail('pipeline', 'is required (the training pipeline)');
  checkPolicies(o.policies);
  if (typeof o.gate !== 'object' || o.gate === null || typeof o.gate.metric !== 'string' || !o.gate.metric) r.fail('gate.metric', 'must name the offline metric', o.gate?.metric);
  r.number('gate.minImprovement', o.gate.minImprovement, 0);
  if (typeof o.canary?.start !== 'function') r.fail('canary', 'must be a CanaryControl (start, promote, rollback)');
  const store = o.store;
  return {
    store, model: o.model, pipeline: o.pipeline, params: o.params ?? {}, championParam: o.championParam ?? 'champion', policies: o.policies,
    modelOutput: o.modelOutput ?? { step: 'train', output: 'model' }, metricsOutput: o.metricsOutput ?? { step: 'evaluate', output: 'metrics' },
    gate: { metric: o.gate.metric, higherIsBetter: o.gate.higherIsBetter ?? true, minImprovement: o.gate.minImprovement ?? 0 }, canary: o.canary,
    canaryWeightPct: r.number('canaryWeightPct', o.canaryWeightPct, 10, { min: 0, max: 100 }), feedbackMonitor: o.feedbackMonitor ?? 'feedback',
    minExposures: r.int('minExposures', o.minExposures, 1000, { min: 1 }), alpha: r.number('alpha', o.alpha, 0.05, { min: 0, max: 1 }),
    maxCanaryMs: r.int('maxCanaryMs', o.maxCanaryMs, 7 * 24 * 3600 * 1000, { min: 1 }), notifier: o.notifier, servingVersion: r.fn('servingVersion', o.servingVersion),
    launch: o.launch ?? ((params) => runPipeline(o.pipeline, { store, params, experiment: 'retraining' })),
  };
}

/** Decisions that leave a canary out (the next tick judges it). */
const CANARY_OUT: ReadonlySet<RetrainingDecisionKind> = new Set(['canary-started', 'canary-waiting']);

export class RetrainingLoop {
  private readonly o: Compiled;
  private readonly decisions: DecisionRecords;
  /** When the loop was made: the first schedule and data-volume window start here when the model has no decisions. */
  private readonly createdAt: number;

  constructor(options: RetrainingOptions, now = Date.now()) {
    this.o = compile(options);
    this.decisions = new DecisionRecords(this.o.store);
    this.createdAt = now;
  }

  /** One step of the loop at `now`; resolves with the decisions it recorded (none when nothing was due). */
  async tick(now = Date.now()): Promise<RetrainingDecision[]> {
    const latest = await this.decisions.latest(this.o.model);
    if (latest && CANARY_OUT.has(latest.decision)) return this.judgeCanary(latest, now);
    const since = (await this.lastRetrainAt()) ?? this.createdAt;
    const firing = await firstFiring(this.o.store, this.o.policies, since, now);
    return firing ? this.retrain(firing, now) : [];
  }

  /** Retrains now for `firing` (a policy's, or a manual one): pipeline, gate, canary. */
  async retrain(firing: PolicyFiring, now = Date.now()): Promise<RetrainingDecision[]> {
    const o = this.o;
    const out: RetrainingDecision[] = [];
    const champion = await this.champion();
    const record = async (decision: RetrainingDecisionKind, reason: string, extra: Partial<RetrainingDecision> = {}) => {
      const d = await this.decisions.add({
        model: o.model, decision, reason, at: now, policy: firing.policy, pipelineRunId: null, candidateVersion: null, championVersion: champion?.version ?? null,
        evidence: null, ...extra,
      });
      out.push(d);
      return d;
    };
    await record('retrain-started', firing.reason, { evidence: firing.evidence });
    const params = { ...o.params };
    if (champion && o.pipeline.params && o.championParam in o.pipeline.params) params[o.championParam] = `models:/${o.model}/${champion.version}`;

    let result: PipelineRunResult;
    try {
      result = await o.launch(params);
    } catch (err) {
      const runId = (err as { runId?: string }).runId ?? null;
      await this.fail(record, `the pipeline ${o.pipeline.name} failed: ${(err as Error).message}`, runId, now);
      return out;
    }
    let candidate: ModelVersion;
    let metrics: Record<string, number>;
    try {
      ({ candidate, metrics } = await this.registerCandidate(result));
    } catch (err) {
      await this.fail(record, `the pipeline ${o.pipeline.name} ran (${result.runId}) but gave no candidate: ${(err as Error).message}`, result.runId, now);
      return out;
    }
    const base = { pipelineRunId: result.runId, candidateVersion: candidate.version };

    // The offline gate.
    const m = o.gate.metric;
    const cand = metrics[m];
    if (typeof cand !== 'number' || !Number.isFinite(cand)) {
      await this.fail(record, `the candidate's offline metrics have no '${m}' (they have ${Object.keys(metrics).join(', ') || 'nothing'})`, result.runId, now, base);
      return out;
    }
    const champ = champion ? (metrics[`champion.${m}`] ?? numberTag(champion.tags[`offline.${m}`])) : undefined;
    const sign = o.gate.higherIsBetter ? 1 : -1;
    const gate = { metric: m, candidate: cand, champion: champ ?? null, higherIsBetter: o.gate.higherIsBetter, minImprovement: o.gate.minImprovement, championSource: champ === undefined ? null : metrics[`champion.${m}`] !== undefined ? 'same evaluation' : 'registered' };
    if (champion && champ !== undefined && sign * (cand - champ) < o.gate.minImprovement) {
      await record('gate-rejected', `candidate v${candidate.version} ${m} ${fmt(cand)} against champion v${champion.version} ${fmt(champ)}: not ${o.gate.higherIsBetter ? 'higher' : 'lower'} by ${o.gate.minImprovement}; the champion stays`, { ...base, evidence: { gate } });
      return out;
    }
    if (champion && champ === undefined) {
      await record('gate-rejected', `the champion v${champion.version} has no offline ${m} to compare with (neither champion.${m} in the evaluation nor tag offline.${m}); the champion stays`, { ...base, evidence: { gate } });
      return out;
    }

    try {
      if (!champion) {
        await o.store.setAlias(o.model, 'champion', candidate.version, { by: 'retraining', reason: `no champion yet; ${m} ${fmt(cand)}`, ifCurrent: null });
        await o.canary.promote(candidate);
        await record('promoted', `no champion yet: candidate v${candidate.version} (${m} ${fmt(cand)}) goes live`, { ...base, evidence: { gate } });
        return out;
      }
      await o.store.setAlias(o.model, 'candidate', candidate.version, { by: 'retraining', reason: firing.reason });
      await o.canary.start(candidate, o.canaryWeightPct);
    } catch (err) {
      await this.fail(record, `candidate v${candidate.version} passed the gate but could not go out: ${(err as Error).message}`, result.runId, now, base);
      return out;
    }
    await record('canary-started', `candidate v${candidate.version} ${m} ${fmt(cand)} against champion v${champion.version} ${fmt(champ!)}: canary at ${o.canaryWeightPct}% of users`, { ...base, evidence: { gate, weightPct: o.canaryWeightPct } });
    return out;
  }

  private async judgeCanary(latest: RetrainingDecision, now: number): Promise<RetrainingDecision[]> {
    const o = this.o;
    const started = (await this.decisions.list({ model: o.model })).reverse().find((d) => d.decision === 'canary-started') ?? latest;
    const candidate = await o.store.getModelVersion(o.model, latest.candidateVersion!);
    const championVersion = latest.championVersion;
    const base = { model: o.model, at: now, policy: latest.policy, pipelineRunId: latest.pipelineRunId, candidateVersion: candidate.version, championVersion };
    const result = (await new MonitorRecords(o.store).results({ monitor: o.feedbackMonitor, kind: 'online', from: started.at })).at(-1);
    const served = o.servingVersion?.(candidate);
    const arm = (name: string) => {
      const groups = ((result?.evidence as OnlineMetricsReport | undefined)?.groups ?? [])
        .filter((g) => g.arm === name && (served === undefined || (name === 'canary') === (g.modelVersion === served)));
      return { exposures: groups.reduce((s, g) => s + g.exposures, 0), hits: groups.reduce((s, g) => s + g.hits, 0), versions: groups.map((g) => g.modelVersion) };
    };
    const c = arm('canary');
    const s = arm('stable');
    const rule = { minExposures: o.minExposures, alpha: o.alpha, test: 'one-sided pooled two-proportion z-test on hit rate, canary lower than stable' };
    if (c.exposures < o.minExposures || s.exposures < o.minExposures) {
      if (now - started.at > o.maxCanaryMs) {
        await o.canary.rollback(candidate);
        const d = await this.decisions.add({
          ...base, decision: 'rolled-back',
          reason: `the canary did not reach ${o.minExposures} judged exposures per arm within ${Math.round(o.maxCanaryMs / 3_600_000)} h (canary ${c.exposures}, stable ${s.exposures}): rolled back, the champion stays`,
          evidence: { rule, canary: c, stable: s, resultSeq: result?.seq ?? null },
        });
        return [d];
      }
      if (latest.decision === 'canary-waiting') return [];
      const d = await this.decisions.add({
        ...base, decision: 'canary-waiting', reason: `not enough judged exposures yet (canary ${c.exposures}, stable ${s.exposures}; ${o.minExposures} per arm needed)`,
        evidence: { rule, canary: c, stable: s, resultSeq: result?.seq ?? null },
      });
      return [d];
    }
    const t = twoProportionTest(c.hits, c.exposures, s.hits, s.exposures);
    const evidence = { rule, canary: c, stable: s, test: t, resultSeq: result!.seq };
    const rates = `canary ${pct(t.rateA)} of ${c.exposures}, champion ${pct(t.rateB)} of ${s.exposures}, z ${t.z.toFixed(2)}, one-sided p ${t.pLower.toPrecision(3)}`;
    if (t.pLower < o.alpha) {
      await o.canary.rollback(candidate);
      const d = await this.decisions.add({ ...base, decision: 'rolled-back', reason: `the canary's hit rate is lower than the champion's (${rates} < α ${o.alpha}): rolled back`, evidence });
      return [d];
    }
    await o.canary.promote(candidate);
    await o.store.setAlias(o.model, 'champion', candidate.version, { by: 'retraining', reason: `canary not worse than the champion (${rates})` });
    const d = await this.decisions.add({ ...base, decision: 'promoted', reason: `the canary is not worse than the champion (${rates} ≥ α ${o.alpha}): promoted`, evidence });
    return [d];
  }

  private async fail(record: (d: RetrainingDecisionKind, reason: string, extra?: Partial<RetrainingDecision>) => Promise<RetrainingDecision>, reason: string, runId: string | null, now: number, extra: Partial<RetrainingDecision> = {}): Promise<void> {
    const champion = await this.champion();
    const message = `${reason}; the champion${champion ? ` v${champion.version}` : ''} stays`;
    const d = await record('retrain-failed', message, { pipelineRunId: runId, ...extra, evidence: { error: reason } });
    await raiseAlert(this.o.store, { source: `retraining:${this.o.model}`, kind: 'retraining-failed', severity: 'critical', message, evidence: { decisionSeq: d.seq, pipelineRunId: runId }, at: now }, this.o.notifier);
  }

  /** Registers the pipeline's model output as a new version (tagged with its run and offline metrics). */
  private async registerCandidate(result: PipelineRunResult): Promise<{ candidate: ModelVersion; metrics: Record<string, number> }> {
    const o = this.o;
    const pick = (p: OutputPath): unknown => {
      const step = result.outputs[p.step] as Record<string, unknown> | undefined;
      if (!step || typeof step !== 'object' || Array.isArray(step)) throw new Error(`no step '${p.step}' in its outputs (steps: ${Object.keys(result.outputs).join(', ')})`);
      if (!(p.output in step)) throw new Error(`step '${p.step}' has no output '${p.output}' (outputs: ${Object.keys(step).join(', ')})`);
      return step[p.output];
    };
    const model = pick(o.modelOutput) as { artifact?: string; uri?: string };
    if (model?.artifact !== 'model' || typeof model.uri !== 'string') throw new Error(`${o.modelOutput.step}.${o.modelOutput.output} is not a model artifact`);
    const ref = pick(o.metricsOutput) as { artifact?: string; uri?: string };
    if (ref?.artifact !== 'metrics' || typeof ref.uri !== 'string') throw new Error(`${o.metricsOutput.step}.${o.metricsOutput.output} is not a metrics artifact`);
    const at = parseRunsUri(ref.uri)!;
    const metrics = JSON.parse(new TextDecoder().decode(await o.store.readArtifact(at.runId, at.path))) as Record<string, number>;
    const tags: Record<string, string> = { 'retraining.pipeline_run': result.runId };
    for (const [k, v] of Object.entries(metrics)) if (!k.startsWith('champion.') && typeof v === 'number') tags[`offline.${k}`] = String(v);
    const candidate = await o.store.registerModel(o.model, model.uri, { description: `retrained by pipeline ${result.pipeline} run ${result.runId}`, tags });
    return { candidate, metrics };
  }

  private async champion(): Promise<ModelVersion | undefined> {
    try {
      const m = await this.o.store.getModel(this.o.model);
      const v = m.aliases.champion;
      return v === undefined ? undefined : await this.o.store.getModelVersion(this.o.model, v);
    } catch (err) {
      if (err instanceof ModelNotFoundError) return undefined;
      throw err;
    }
  }

  private async lastRetrainAt(): Promise<number | undefined> {
    const all = await this.decisions.list({ model: this.o.model, limit: 200 });
    return all.reverse().find((d) => d.decision === 'retrain-started')?.at;
  }
}

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(4));
const numberTag = (v: string | undefined): number | undefined => (v === undefined || !Number.isFinite(Number(v)) ? undefined : Number(v));
