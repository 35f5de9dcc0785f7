/**
 * Skipping a test at run time with its reason: the reason is shown by vitest's reporter (the skip
 * note) and kept in the test's meta (`skipReason`), which the JSON report carries, so `.ci/run` can
 * print why each skipped test was skipped. Static skips name their reason in the title instead:
 * `... (skipped: <reason>)`.
 */
import type { TestContext } from 'vitest';

export function skipBecause(ctx: TestContext, reason: string): never {
  (ctx.task.meta as Record<string, unknown>)['skipReason'] = reason;
  return ctx.skip(reason);
}

/** The reason for tests that need the PostgreSQL test server (under CI, connecting fails instead). */
export const NO_POSTGRES = 'PostgreSQL is not reachable at 127.0.0.1:5432 (CI fails instead of skipping)';
