/**
 * What a trigger does when it fires while a run of its pipeline is still going (started by this
 * head for any trigger, or recorded RUNNING in the store — a manual run counts too):
 *
 * - `skip` (the default): the firing is dropped (counted in the trigger's `skipped`). Right for
 *   schedules whose next firing will do the same work.
 * - `queue`: the firing waits (counted in the trigger's `queued`, kept in the store, so a queue
 *   survives a head restart) and starts when no run of the pipeline is going; queued firings start
 *   one at a time, oldest first.
 * - `allow`: a run starts at once, beside the running one.
 */
export type OverlapPolicy = 'skip' | 'queue' | 'allow';

export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['skip', 'queue', 'allow'];

/** What to do with a firing. */
export type OverlapDecision = 'start' | 'queue' | 'skip';

export function decideOverlap(policy: OverlapPolicy, busy: boolean): OverlapDecision {
  if (!busy || policy === 'allow') return 'start';
  return policy === 'queue' ? 'queue' : 'skip';
}
