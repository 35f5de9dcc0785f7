/**
 * Pipeline schedules and triggers held by the head (core's head-extension.ts): a head started with
 * this module in `extensions` (`shoal start --head` does) ticks the trigger state
 * (triggers/trigger-state.ts) every second over the platform store — found as the CLI finds it
 * (SHOAL_METADATA_URL, else $SHOAL_HOME/store) — and starts each run as a `shoal pipeline run`
 * process connected to this head. The store is opened on the first tick and again after a failure,
 * so a head starts while its database is down and catches up when it is back (a SQLite store that
 * does not exist yet is left alone until the CLI makes it). The triggers are in
 * the store, so a restarted head picks them up (a schedule missed meanwhile fires once).
 *
 * It also adds the monitoring metrics (alerts/monitoring-metrics.ts: every monitor's newest result,
 * online metrics, alerts, retraining decisions — read from the same store) to the head's /metrics.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HeadHost } from '../core/index.js';
import { isPostgresUrl, openStore, resolveStoreLocation, type Store } from '../store/index.js';
import { monitoringMetrics } from './alerts/monitoring-metrics.js';
import { cliLauncher } from './triggers/cli-launcher.js';
import { TriggerState } from './triggers/trigger-state.js';

/** How often the head looks at its triggers. */
export const TRIGGER_TICK_MS = 1_000;

export function mountHead(host: HeadHost): void {
  let state: TriggerState | undefined;
  let store: Store | undefined;
  let busy = false;
  let lastError = '';
  const launcher = cliLauncher({ address: host.info.address, tokenFile: host.info.tokenFile, logDir: join(host.info.dir, 'pipeline-runs') });
  let opening: Promise<Store | undefined> | undefined;
  /** The store, opened when it exists (no SQLite store yet: no trigger or monitor can exist, and a head must not make a store nobody asked for). */
  const open = (): Promise<Store | undefined> => {
    if (store) return Promise.resolve(store);
    const where = resolveStoreLocation();
    if (!isPostgresUrl(where.url) && !existsSync(where.url)) return Promise.resolve(undefined);
    opening ??= openStore().then((s) => {
      store = s;
      state = new TriggerState({ store: s, launcher });
      return s;
    }).finally(() => {
      opening = undefined;
    });
    return opening;
  };
  host.addMetrics(monitoringMetrics(open));
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      if (!(await open())) return;
      await state!.tick();
      lastError = '';
    } catch (err) {
      const message = (err as Error).message;
      // Said once per distinct failure, on the head's log.
      if (message !== lastError) process.stderr.write(`shoal pipelines: triggers not checked: ${message}\n`);
      lastError = message;
      if (store && /closed|terminat|connect/i.test(message)) {
        await store.close().catch(() => undefined);
        store = undefined;
      }
    } finally {
      busy = false;
    }
  };
  setInterval(() => void tick(), TRIGGER_TICK_MS).unref();
  void tick();
}
