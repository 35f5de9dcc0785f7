/**
 * Pluggable early-stopping decisions of `tune()`: after each intermediate result a scheduler says
 * whether the trial goes on. FIFO never stops a trial; ASHA (asynchronous successive halving, Li et
 * al. 2018, as in Ray Tune's `ASHAScheduler`) keeps rungs at gracePeriod·rf^k steps and stops a
 * trial that reaches a rung below the top 1/rf of the results recorded there so far — decisions
 * never wait for other trials, so parallel workers stay busy.
 */
export type TrialDecision = 'continue' | 'stop';

export interface TrialScheduler {
  readonly name: string;
  /** A trial reported `value` (of the searched metric) after `step` steps (1-based). */
  onResult(trialId: string, step: number, value: number): TrialDecision;
}

export class FifoScheduler implements TrialScheduler {
  readonly name = 'fifo';
  onResult(): TrialDecision {
    return 'continue';
  }
}

export interface AshaParams {
  gracePeriod: number;
  reductionFactor: number;
  maxT: number;
  mode: 'min' | 'max';
}

export class AshaScheduler implements TrialScheduler {
  readonly name = 'asha';
  /** Highest milestone first; each records trialId → score (higher is better). */
  readonly rungs: { milestone: number; recorded: Map<string, number> }[] = [];

  constructor(readonly params: AshaParams) {
    const milestones: number[] = [];
    for (let m = params.gracePeriod; m < params.maxT; m *= params.reductionFactor) milestones.push(Math.round(m));
    for (const m of milestones.reverse()) this.rungs.push({ milestone: m, recorded: new Map() });
  }

  onResult(trialId: string, step: number, value: number): TrialDecision {
    if (step >= this.params.maxT) return 'stop';
    const score = this.params.mode === 'max' ? value : -value;
    for (const rung of this.rungs) {
      if (step < rung.milestone || rung.recorded.has(trialId)) continue;
      const cutoff = this.cutoff(rung.recorded);
      rung.recorded.set(trialId, Number.isNaN(score) ? -Infinity : score);
      return cutoff !== undefined && !(score >= cutoff) ? 'stop' : 'continue';
    }
    return 'continue';
  }

  /** The (1 − 1/rf) quantile of the scores recorded at a rung (linear interpolation, like numpy). */
  private cutoff(recorded: Map<string, number>): number | undefined {
    if (recorded.size === 0) return undefined;
    const v = [...recorded.values()].sort((a, b) => a - b);
    const q = (1 - 1 / this.params.reductionFactor) * (v.length - 1);
    const lo = Math.floor(q);
    const hi = Math.min(lo + 1, v.length - 1);
    return v[lo]! + (v[hi]! - v[lo]!) * (q - lo);
  }
}
