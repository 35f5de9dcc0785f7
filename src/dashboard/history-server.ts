/**
 * The dashboard of a stopped cluster: its own HTTP server over a HistorySource, bound to
 * 127.0.0.1 unless told otherwise. The login takes the cluster's token (the token file beside the
 * store) or, when that is gone, a token made for this server and printed by `shoal dashboard`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { HistorySource } from './history-source.js';
import { Assets } from './server/assets.js';
import { DashboardAuth } from './server/auth.js';
import { DashboardRouter } from './server/router.js';

export interface HistoryDashboardOptions {
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /** Port; 0 picks a free one. @default 0 */
  port?: number;
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
  const router = new DashboardRouter(source, auth, new Assets());
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
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
