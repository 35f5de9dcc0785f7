/**
 * Every retraining decision as the platform store keeps it (table `retraining_decisions`, store
 * migration 5): a policy fired, the retrain failed, the candidate was rejected by the offline gate,
 * the canary started, waited for more data, was promoted or rolled back — each with its reason in
 * words and the evidence behind it (the policy's signal, the offline metrics of both models, the
 * canary's test). The newest decision of a model is also its state: a `canary-started` or
 * `canary-waiting` one means a canary is out and the next tick judges it.
 */
import type { Store } from '../../store/index.js';

export type RetrainingDecisionKind =
  /** A policy fired and the pipeline was started. */
  | 'retrain-started'
  /** The pipeline failed (or made no candidate): the champion stays, an alert was raised. */
  | 'retrain-failed'
  /** The candidate lost the offline gate against the champion: the champion stays. */
  | 'gate-rejected'
  /** The candidate passed the gate and went out as a canary. */
  | 'canary-started'
  /** The canary has not yet the minimum sample (or its labels are not mature): judged again later. */
  | 'canary-waiting'
  /** The canary was not worse than the champion by the rule: it is the champion now. */
  | 'promoted'
  /** The canary was worse than the champion by the rule: traffic went back to the champion. */
  | 'rolled-back';

export interface RetrainingDecision {
  seq: number;
  model: string;
  decision: RetrainingDecisionKind;
  reason: string;
  at: number;
  /** The policy that fired (`drift`, `schedule`, ...), carried through the retrain's decisions. */
  policy: string | null;
  pipelineRunId: string | null;
  candidateVersion: number | null;
  championVersion: number | null;
  evidence: unknown;
}

interface Row {
  seq: number; model: string; decision: RetrainingDecisionKind; reason: string; at: number; policy: string | null; pipeline_run_id: string | null;
  candidate_version: number | null; champion_version: number | null; evidence_json: string;
}

const toDecision = (r: Row): RetrainingDecision => ({
  seq: Number(r.seq), model: r.model, decision: r.decision, reason: r.reason, at: Number(r.at), policy: r.policy, pipelineRunId: r.pipeline_run_id,
  candidateVersion: r.candidate_version === null ? null : Number(r.candidate_version), championVersion: r.champion_version === null ? null : Number(r.champion_version),
  evidence: JSON.parse(r.evidence_json) as unknown,
});

export class DecisionRecords {
  constructor(readonly store: Store) {}

  async add(d: Omit<RetrainingDecision, 'seq'>): Promise<RetrainingDecision> {
    const row = await this.store.db.get<{ seq: number }>(
      `INSERT INTO retraining_decisions (model, decision, reason, at, policy, pipeline_run_id, candidate_version, champion_version, evidence_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
      [d.model, d.decision, d.reason, d.at, d.policy, d.pipelineRunId, d.candidateVersion, d.championVersion, JSON.stringify(d.evidence ?? null)],
    );
    return { ...d, seq: Number(row!.seq) };
  }

  /** Decisions (of `model` when given) in [from, to), oldest first; the newest `limit`. */
  async list(options: { model?: string | undefined; from?: number | undefined; to?: number | undefined; limit?: number | undefined } = {}): Promise<RetrainingDecision[]> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (options.model !== undefined) {
      where.push('model = ?');
      params.push(options.model);
    }
    if (options.from !== undefined) {
      where.push('at >= ?');
      params.push(options.from);
    }
    if (options.to !== undefined) {
      where.push('at < ?');
      params.push(options.to);
    }
    const rows = await this.store.db.all<Row>(
      `SELECT * FROM retraining_decisions${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`, [...params, options.limit ?? 1000],
    );
    return rows.map(toDecision).reverse();
  }

  /** The newest decision of `model`, if any. */
  async latest(model: string): Promise<RetrainingDecision | undefined> {
    const row = await this.store.db.get<Row>(`SELECT * FROM retraining_decisions WHERE model = ? ORDER BY seq DESC LIMIT 1`, [model]);
    return row && toDecision(row);
  }

  /** Decisions by (model, decision), for the Prometheus counter. */
  async counts(): Promise<Array<{ model: string; decision: string; count: number; lastAt: number }>> {
    const rows = await this.store.db.all<{ model: string; decision: string; n: number; last_at: number }>(
      `SELECT model, decision, count(*) AS n, max(at) AS last_at FROM retraining_decisions GROUP BY model, decision ORDER BY model, decision`,
    );
    return rows.map((r) => ({ model: r.model, decision: r.decision, count: Number(r.n), lastAt: Number(r.last_at) }));
  }
}
