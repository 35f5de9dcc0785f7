/**
 * Whether the multi-host tests can run here (root, iproute2, `ip netns`). Without it they are
 * skipped with the reason, except under CI, where a missing prerequisite is a failure.
 */
import { describe } from 'vitest';
import { netnsUnavailable } from '../../harness/netns-cluster.js';

export const skipReason = netnsUnavailable();

if (skipReason && process.env.CI) throw new Error(`multi-host tests cannot run (CI is set, so this fails instead of skipping): ${skipReason}`);
if (skipReason) console.warn(`skipping the multi-host tests: ${skipReason}`);

/** `describe` that skips when namespace hosts cannot be made here. */
export const describeMultihost = (name: string, fn: () => void): void => {
  describe.skipIf(skipReason !== undefined)(skipReason ? `${name} (skipped: ${skipReason})` : name, fn);
};
