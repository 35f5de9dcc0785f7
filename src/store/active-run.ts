/**
 * The active run: what autologging (ALS fit, the TF.js Trainer, `tune()`) logs into when there is
 * one, and what it leaves alone when there is none. `withActiveRun(run, fn)` makes `run` active for
 * everything `fn` awaits (AsyncLocalStorage, so concurrent trials each see their own child run);
 * `setActiveRun(run)` makes it active for the whole process (a job's main run).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Run } from './run.js';
import { Store } from './store.js';
import type { RunRef } from './run.js';

const scoped = new AsyncLocalStorage<Run | null>();
let processWide: Run | undefined;

/** The run autologging logs into now, if any. */
export function activeRun(): Run | undefined {
  const s = scoped.getStore();
  return s === null ? undefined : (s ?? processWide);
}

/** Runs `fn` with `run` active (`undefined`: with no run active, e.g. to switch autologging off inside). */
export function withActiveRun<T>(run: Run | undefined, fn: () => T): T {
  return scoped.run(run ?? null, fn);
}

/** Makes `run` the process's active run (`undefined` clears it). */
export function setActiveRun(run: Run | undefined): void {
  processWide = run;
}

/**
 * Opens the run `ref` names (from `run.ref()` in the driver) in this process — a task or an actor on
 * any worker that reaches the store (the same SQLite file on this host, or PostgreSQL) — for logging.
 * `close()` on it flushes its metrics and closes the store it opened.
 */
export async function openRun(ref: RunRef): Promise<Run> {
  const store = await Store.open({ url: ref.store.url, artifactDir: ref.store.artifactDir });
  try {
    const run = await store.attachRun(ref.runId);
    const close = run.close.bind(run);
    run.close = async () => {
      try {
        await close();
      } finally {
        await store.close();
      }
    };
    return run;
  } catch (err) {
    await store.close();
    throw err;
  }
}
