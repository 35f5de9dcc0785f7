/**
 * What fires a retrain. Each policy looks at signals the platform store already holds — the newest
 * drift result of a monitor, the feedback loop's online results, the time of the last retrain — or
 * at a count the user gives (rows that arrived), and says whether it fires, why, and on what
 * evidence. Policies are checked in order; the first that fires starts the pipeline, and the reason
 * and evidence go into the decision record.
 */
import type { Store } from '../../store/index.js';
import { compileCron } from '../triggers/cron.js';
import type { OnlineMetricsReport } from '../feedback/online-metrics.js';
import { MonitorRecords } from '../monitoring/monitor-records.js';
import { optionRules } from '../../core/index.js';

export type RetrainingPolicy =
  /** On a cron schedule (the first occurrence after the last retrain). */
  | { kind: 'schedule'; cron: string; timezone?: string }
  /** When the newest result of drift monitor `monitor` is an alert recorded after the last retrain. */
  | { kind: 'drift'; monitor: string }
  /**
   * When the stable arm's hit rate in the newest result of feedback monitor `monitor` fell by more
   * than `maxRelativeDrop` (0.2: 20 %) below its first result for the same serving version with at
   * least `minExposures` judged exposures (default 500).
   */
  | { kind: 'online-metric-drop'; monitor: string; maxRelativeDrop: number; minExposures?: number }
  /** When `newRows(since)` — rows that arrived since the last retrain — reaches `minNewRows`. */
  | { kind: 'data-volume'; minNewRows: number; newRows: (sinceMs: number) => Promise<number> };

export interface PolicyFiring {
  policy: RetrainingPolicy['kind'];
  reason: string;
  evidence: unknown;
}

/** Checks each policy's fields once, naming the one at fault. */
export function checkPolicies(policies: readonly RetrainingPolicy[]): void {
  const r = optionRules('retraining policies');
  if (!Array.isArray(policies)) r.fail('policies', 'must be an array of policies');
  policies.forEach((p, i) => {
    const at = `policies[${i}]`;
    if (typeof p !== 'object' || p === null) return r.fail(at, 'must be a policy object', p);
    switch (p.kind) {
      case 'schedule':
        compileCron(p.cron, p.timezone ?? 'UTC');
        return;
      case 'drift':
        if (typeof p.monitor !== 'string' || !p.monitor) r.fail(`${at}.monitor`, 'must name a drift monitor', p.monitor);
        return;
      case 'online-metric-drop':
        if (typeof p.monitor !== 'string' || !p.monitor) r.fail(`${at}.monitor`, 'must name a feedback monitor', p.monitor);
        r.number(`${at}.maxRelativeDrop`, p.maxRelativeDrop, 0, { min: 0, max: 1 });
        if (p.maxRelativeDrop === undefined) r.fail(`${at}.maxRelativeDrop`, 'is required (0.2: fire on a 20 % drop)');
        r.int(`${at}.minExposures`, p.minExposures, 500, { min: 1 });
        return;
      case 'data-volume':
        r.int(`${at}.minNewRows`, p.minNewRows, 1, { min: 1 });
        if (typeof p.newRows !== 'function') r.fail(`${at}.newRows`, 'must be a function (since ms) => rows that arrived since');
        return;
      default:
        r.fail(`${at}.kind`, "must be one of 'schedule', 'drift', 'online-metric-drop', 'data-volume'", (p as { kind?: unknown }).kind);
    }
  });
}

/** The first policy that fires at `now`, given the last retrain's time (`since`), or undefined. */
export async function firstFiring(store: Store, policies: readonly RetrainingPolicy[], since: number, now: number): Promise<PolicyFiring | undefined> {
  const records = new MonitorRecords(store);
  for (const p of policies) {
    const f = await fires(records, p, since, now);
    if (f) return f;
  }
  return undefined;
}

async function fires(records: MonitorRecords, p: RetrainingPolicy, since: number, now: number): Promise<PolicyFiring | undefined> {
  switch (p.kind) {
    case 'schedule': {
      const due = compileCron(p.cron, p.timezone ?? 'UTC').nextAfter(since);
      if (due === undefined || due > now) return undefined;
      return { policy: 'schedule', reason: `schedule ${p.cron} was due at ${new Date(due).toISOString()}`, evidence: { cron: p.cron, due, since } };
    }
    case 'drift': {
      const latest = (await records.results({ monitor: p.monitor, kind: 'drift', from: since })).at(-1);
      if (!latest || latest.status !== 'alert') return undefined;
      return { policy: 'drift', reason: `drift monitor ${p.monitor} alerted at ${new Date(latest.at).toISOString()}: ${latest.summary}`, evidence: { monitor: p.monitor, resultSeq: latest.seq, summary: latest.summary } };
    }
    case 'online-metric-drop': {
      const min = p.minExposures ?? 500;
      const results = await records.results({ monitor: p.monitor, kind: 'online' });
      const newest = results.at(-1);
      const now_ = newest && stableGroup(newest.evidence as OnlineMetricsReport);
      if (!newest || !now_ || now_.exposures < min || now_.hitRate === null) return undefined;
      const base = results.map((r) => ({ r, g: stableGroup(r.evidence as OnlineMetricsReport) }))
        .find((x) => x.g && x.g.modelVersion === now_.modelVersion && x.g.exposures >= min && x.g.hitRate !== null);
      if (!base || base.r.seq === newest.seq || newest.at < since) return undefined;
      const floor = base.g!.hitRate! * (1 - p.maxRelativeDrop);
      if (now_.hitRate >= floor) return undefined;
      return {
        policy: 'online-metric-drop',
        reason: `hit rate of ${now_.modelVersion} (stable arm) fell to ${pct(now_.hitRate)} from ${pct(base.g!.hitRate!)} (more than ${pct(p.maxRelativeDrop)} lower)`,
        evidence: { monitor: p.monitor, version: now_.modelVersion, hitRate: now_.hitRate, exposures: now_.exposures, baselineHitRate: base.g!.hitRate, baselineSeq: base.r.seq, maxRelativeDrop: p.maxRelativeDrop },
      };
    }
    case 'data-volume': {
      const rows = await p.newRows(since);
      if (rows < p.minNewRows) return undefined;
      return { policy: 'data-volume', reason: `${rows} new rows since ${new Date(since).toISOString()} (at least ${p.minNewRows})`, evidence: { rows, since, minNewRows: p.minNewRows } };
    }
  }
}

const stableGroup = (r: OnlineMetricsReport | null) => {
  const stable = r?.groups.filter((g) => g.arm === 'stable') ?? [];
  return stable.sort((a, b) => b.exposures - a.exposures)[0];
};

export const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
