/**
 * What drivers publish to the head (core `publish`) as the dashboard keeps it, in memory for the
 * pages and in the head store for `--history` (kind `history-published`). Retention (README,
 * "Dashboard"): serving status samples, the newest SERVE_SAMPLES_KEPT (one hour at one per 2 s);
 * the serve autoscaler's decisions, the newest DECISIONS_KEPT; Dataset actions, the newest
 * DATA_ACTIONS_KEPT (each one record, rewritten as its driver publishes). A message that does not
 * have the shape of its topic is dropped (a driver of another version): counted, never thrown.
 */
import type { DataActionView, DatasetsView, ServeDecisionView, ServeSampleView, ServeView } from './api-types.js';

export const SERVE_SAMPLES_KEPT = 1_800;
export const DECISIONS_KEPT = 200;
export const DATA_ACTIONS_KEPT = 100;
/** Samples one GET /api/serve returns (the newest): 10 minutes at one per 2 s. */
export const SERVE_SAMPLES_LISTED = 300;

const SERVE_PREFIX = 'serve.status/';
const DECISION_PREFIX = 'serve.decision/';
const DATA_PREFIX = 'data.progress/';

/** The part of core's HeadHost this needs (so history can reuse it without a head). */
export interface PublishedStore {
  keep(kind: 'history-published', key: string, value: unknown): void;
  forget(kind: 'history-published', key: string): void;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isServeSample(v: unknown): v is ServeSampleView {
  return isObject(v) && typeof v.at === 'number' && typeof v.url === 'string' && isObject(v.status) && Array.isArray(v.status.deployments) && Array.isArray(v.status.decisions);
}

export function isDataAction(v: unknown): v is Omit<DataActionView, 'updatedAt'> {
  return isObject(v) && typeof v.action === 'string' && typeof v.startedAt === 'number' && Array.isArray(v.stages);
}

const pad = (n: number): string => String(Math.round(n)).padStart(15, '0');

export class PublishedKeeper {
  private readonly samples: Array<{ key: string; sample: ServeSampleView }> = [];
  private readonly decisions = new Map<string, ServeDecisionView>();
  private readonly actions = new Map<string, DataActionView>();
  private seq = 0;
  /** Messages dropped for their shape. */
  dropped = 0;

  /** Takes what a previous head kept (`stored`: the history-published records), and keeps new ones in `sink`. */
  constructor(stored: Map<string, unknown>, private readonly sink?: PublishedStore) {
    for (const key of [...stored.keys()].sort()) {
      const v = stored.get(key);
      if (key.startsWith(SERVE_PREFIX) && isServeSample(v)) this.samples.push({ key, sample: v });
      else if (key.startsWith(DECISION_PREFIX)) this.decisions.set(key, v as ServeDecisionView);
      else if (key.startsWith(DATA_PREFIX) && isDataAction(v)) this.actions.set(key, v as DataActionView);
    }
  }

  /** A message published on `topic` (HeadEvent `published`). */
  take(topic: string, data: unknown, at = Date.now()): void {
    if (topic === 'serve.status') {
      if (!isServeSample(data)) return void this.dropped++;
      const key = `${SERVE_PREFIX}${pad(at)}.${String(++this.seq).padStart(9, '0')}`;
      this.samples.push({ key, sample: data });
      this.sink?.keep('history-published', key, data);
      while (this.samples.length > SERVE_SAMPLES_KEPT) this.sink?.forget('history-published', this.samples.shift()!.key);
      for (const d of data.status.decisions) {
        const dk = `${DECISION_PREFIX}${pad(d.timeMs)}.${d.deployment}.${d.from}.${d.to}`;
        if (this.decisions.has(dk)) continue;
        this.decisions.set(dk, d);
        this.sink?.keep('history-published', dk, d);
      }
      this.trim(this.decisions, DECISIONS_KEPT);
    } else if (topic === 'data.progress') {
      if (!isDataAction(data)) return void this.dropped++;
      const key = `${DATA_PREFIX}${data.action}`;
      const view: DataActionView = { action: data.action, startedAt: data.startedAt, endedAt: data.endedAt ?? null, updatedAt: at, stages: data.stages };
      this.actions.delete(key);
      this.actions.set(key, view);
      this.sink?.keep('history-published', key, view);
      this.trim(this.actions, DATA_ACTIONS_KEPT);
    }
  }

  /** Drops the oldest (first inserted; for decisions the keys sort by time) past `max`. */
  private trim(m: Map<string, unknown>, max: number): void {
    if (m.size <= max) return;
    const keys = m === this.decisions ? [...m.keys()].sort() : [...m.keys()];
    for (const k of keys.slice(0, m.size - max)) {
      m.delete(k);
      this.sink?.forget('history-published', k);
    }
  }

  serve(): ServeView {
    const samples = this.samples.slice(-SERVE_SAMPLES_LISTED).map((s) => s.sample);
    const latest = new Map<string, ServeSampleView>();
    for (const s of samples) latest.set(s.url, s);
    const decisions = [...this.decisions.keys()].sort().map((k) => this.decisions.get(k)!);
    return { samples, decisions, latest: [...latest.values()] };
  }

  datasets(): DatasetsView {
    const all = [...this.actions.values()];
    const running = all.filter((a) => a.endedAt === null).sort((a, b) => b.startedAt - a.startedAt);
    const ended = all.filter((a) => a.endedAt !== null).sort((a, b) => b.startedAt - a.startedAt);
    return { actions: [...running, ...ended] };
  }
}
