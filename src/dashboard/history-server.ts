/**
 * The dashboard of a stopped cluster: its own HTTP server over a HistorySource, bound to
 * 127.0.0.1 unless told otherwise. The login takes the cluster's token (the token file beside the
 * store) or, when that is gone, a token made for this server and printed by `shoal dashboard`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import type { StoreOptions } from '../store/index.js';
import { HistorySource } from './history-source.js';
import { Assets } from './server/assets.js';
import { DashboardAuth } from './server/auth.js';
import { DashboardRouter } from './server/router.js';
import { mountStore } from './store-mount.js';

export interface HistoryDashboardOptions {
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /** Port; 0 picks a free one. @default 0 */
  port?: number;
  /**
   * The platform store the Runs and Models pages read. @default the store under the SHOAL_HOME
   * given when it has one (`<home>/store/store.db`), else where the CLI finds it (SHOAL_METADATA_URL, $SHOAL_HOME/store)
   */
  store?: StoreOptions | undefined;
  /** The feature registry folder of the Feature store page. @default `<home>/features` when given a SHOAL_HOME that has one, else $SHOAL_HOME/features */
  featuresDir?: string | undefined;
}

/** The platform store and feature registry beside a SHOAL_HOME given to --history, when it has them. */
export function platformBeside(spec: string): { store?: StoreOptions | undefined; featuresDir?: string | undefined } {
  if (/^postgres(ql)?:\/\//.test(spec) || !existsSync(spec) || !statSync(spec).isDirectory()) return {};
  const db = join(spec, 'store', 'store.db');
  const features = join(spec, 'features');
  return {
    store: existsSync(db) ? { url: db, artifactDir: join(spec, 'store', 'artifacts') } : undefined,
    featuresDir: existsSync(features) ? features : undefined,
  };
}

export interface HistoryDashboard {
  url: string;
  /** The head store read. */
  store: string;
  /** The file holding the token that unlocks it, or the token made for this server. */
  tokenFile?: string | undefined;
  token?: string | undefined;
  close(): Promise<void>;
}

export async function serveHistory(spec: string, options: HistoryDashboardOptions = {}): Promise<HistoryDashboard> {
  const source = await HistorySource.open(spec);
  const tokenFile = source.store.startsWith('postgres') ? undefined : join(dirname(source.store), 'token');
  const fileToken = tokenFile && existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined;
  const token = fileToken ?? randomBytes(24).toString('base64url');
  const want = Buffer.from(token);
  const auth = new DashboardAuth((t) => {
    const given = Buffer.from(t);
    return given.length === want.length && timingSafeEqual(given, want);
  });
  const beside = platformBeside(spec);
  const store = mountStore(auth, { store: options.store ?? beside.store, actor: `history of ${source.store}` });
  const router = new DashboardRouter(source, auth, new Assets(), { store: store.handler, features: { registryDir: options.featuresDir ?? beside.featuresDir } });
  const server: Server = createServer((req, res) => router.handle(req, res));
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolvePromise((server.address() as { port: number }).port));
  });
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    store: source.store,
    tokenFile: fileToken ? tokenFile : undefined,
    token: fileToken ? undefined : token,
    async close() {
      router.hub.close();
      await store.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
