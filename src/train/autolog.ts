/**
 * Autologging into the platform store: when a run is active (`shoal/store`'s `withActiveRun` /
 * `setActiveRun`), ALS fits, TF.js Trainer fits and `tune()` record their params and metrics into
 * it — and do nothing when none is. A failure to log is a warning, never the fit's failure: the
 * model trained is worth more than its record.
 */
import { activeRun, type Run } from '../store/index.js';

const warn = (what: string, err: unknown): void => {
  process.emitWarning(`autologging ${what} failed: ${err instanceof Error ? err.message : String(err)}`, { code: 'SHOAL_AUTOLOG' });
};

/** Runs `fn` with the active run, if any; its errors become warnings. */
async function withRun(what: string, fn: (run: Run) => Promise<void>): Promise<void> {
  const run = activeRun();
  if (!run) return;
  try {
    await fn(run);
  } catch (err) {
    warn(what, err);
  }
}

/** After an ALS fit: its options as `als.*` params, time per iteration as a series, the size of the problem. */
export function autologALSFit(params: Record<string, unknown>, fit: { prepareMs: number; iterationMs: number[]; numUsers: number; numItems: number }): Promise<void> {
  return withRun('an ALS fit', async (run) => {
    const p: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(params)) if (v !== undefined && typeof v !== 'function') p[`als.${k}`] = v;
    await run.logParams(p);
    fit.iterationMs.forEach((ms, i) => run.logMetric('als.iteration_ms', ms, i + 1));
    run.logMetrics({ 'als.prepare_ms': fit.prepareMs, 'als.num_users': fit.numUsers, 'als.num_items': fit.numItems });
    await run.flush();
  });
}

/** After a Trainer fit: its options as `trainer.*` params, loss and validation loss per epoch, throughput. */
export function autologTrainerFit(
  params: Record<string, unknown>,
  result: { lossHistory: readonly number[]; valLossHistory: readonly number[]; restarts: number; stats: { samplesPerSec: number; wallMs: number } },
): Promise<void> {
  return withRun('a Trainer fit', async (run) => {
    const p: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(params)) if (v !== undefined && typeof v !== 'function') p[`trainer.${k}`] = v;
    await run.logParams(p);
    result.lossHistory.forEach((l, e) => Number.isFinite(l) && run.logMetric('trainer.loss', l, e + 1));
    result.valLossHistory.forEach((l, e) => Number.isFinite(l) && run.logMetric('trainer.val_loss', l, e + 1));
    run.logMetrics({ 'trainer.samples_per_sec': result.stats.samplesPerSec, 'trainer.wall_ms': result.stats.wallMs, 'trainer.restarts': result.restarts });
    await run.flush();
  });
}

/** One `tune()` trial as a child run of the active run (undefined when none is active, or it cannot be made). */
export interface TrialLog {
  report(step: number, metrics: Record<string, unknown>): void;
  end(status: 'completed' | 'stopped' | 'error', error?: string): Promise<void>;
}

export async function autologTrialStart(trialId: string, config: Record<string, unknown>): Promise<TrialLog | undefined> {
  const parent = activeRun();
  if (!parent) return undefined;
  let child: Run;
  try {
    child = await parent.store.startRun({ parentRunId: parent.id, name: trialId, params: config, tags: { 'tune.trial': trialId } });
  } catch (err) {
    warn(`tune trial ${trialId}`, err);
    return undefined;
  }
  return {
    report(step, metrics) {
      for (const [k, v] of Object.entries(metrics)) if (typeof v === 'number' && Number.isFinite(v)) child.logMetric(k, v, step);
    },
    async end(status, error) {
      try {
        await child.setTag('tune.status', status);
        await child.end(status === 'error' ? 'FAILED' : 'FINISHED', error);
      } catch (err) {
        warn(`tune trial ${trialId}`, err);
      }
    },
  };
}

/** After `tune()`: the best config as `tune.best.*` params and its metric on the parent run. */
export function autologTuneResult(metric: string, best: { trialId: string; config: Record<string, unknown>; lastResult: Record<string, unknown> | undefined }): Promise<void> {
  return withRun('tune()', async (run) => {
    const p: Record<string, unknown> = { 'tune.best_trial': best.trialId, 'tune.metric': metric };
    for (const [k, v] of Object.entries(best.config)) p[`tune.best.${k}`] = v;
    await run.logParams(p);
    const v = best.lastResult?.[metric];
    if (typeof v === 'number' && Number.isFinite(v)) run.logMetric(`tune.best.${metric}`, v);
    await run.flush();
  });
}
