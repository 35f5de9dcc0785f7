/**
 * The platform store's REST API (src/store's `storeApi`) as the dashboard serves it: the same
 * handler, behind the dashboard's login — a session cookie (plus the CSRF header for the one
 * write, moving an alias) or the cluster token as Bearer. The store outlives clusters: a live head
 * and `shoal dashboard --history` both open it where the CLI would (SHOAL_METADATA_URL, else
 * $SHOAL_HOME/store), on the first request, so a dashboard starts while the database is down and
 * the store pages show the 503 with its reason until it is up.
 */
import { Store, storeApi, type StoreOptions } from '../store/index.js';
import type { DashboardAuth } from './server/auth.js';
import type { StoreHandler } from './server/router.js';

export interface StoreMount {
  handler: StoreHandler;
  close(): Promise<void>;
}

export function mountStore(auth: DashboardAuth, options: { store?: StoreOptions | undefined; actor: string }): StoreMount {
  let opening: Promise<Store> | undefined;
  const open = (): Promise<Store> => {
    opening ??= Store.open(options.store).catch((err: unknown) => {
      opening = undefined;
      throw err;
    });
    return opening;
  };
  const handler = storeApi(open, {
    authorize: (req, { write }) => {
      const caller = auth.caller(req);
      return caller !== undefined && (!write || auth.mayChange(req, caller) === undefined);
    },
    actor: (req) => (auth.caller(req)?.kind === 'session' ? `dashboard (${options.actor})` : `rest-api (${options.actor})`),
  });
  return {
    handler,
    async close() {
      const s = opening;
      opening = undefined;
      if (s) await (await s.catch(() => undefined))?.close();
    },
  };
}
