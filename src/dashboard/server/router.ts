/**
 * The dashboard's HTTP routes, one table: pages (the app shell, behind the login), the login page,
 * the bundled assets, and the JSON API (GET reads, POST actions with the CSRF check).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidOptionError } from '../../core/index.js';
import type { SessionView } from '../api-types.js';
import { DashboardNotFoundError, DashboardReadOnlyError } from '../errors.js';
import { featuresView, type FeaturesViewOptions } from '../features-view.js';
import type { DashboardSource } from '../source.js';
import type { Assets } from './assets.js';
import { DashboardAuth, unauthorized } from './auth.js';
import { readBody, sendError, sendJson, sendThrown, sendView } from './http.js';
import { safeNext, sendLogin, sendShell } from './pages.js';
import { streamJobLog, StreamHub } from './stream.js';

/** Paths the app shell answers: any page path (each page is one file under ui/pages; the app says when there is none). */
export const PAGE_PATH = /^\/(?:[\w.~%-]+(?:\/[\w.~%-]+)*)?$/;
/** Events one GET /api/events returns at most. */
export const EVENTS_LISTED = 500;

/**
 * The platform store's REST API (src/store's handler), served under /api/store/ once the router
 * checked the caller (cookie or Bearer) and, for a state-changing call, the CSRF header.
 */
export type StoreHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface RouterExtras {
  /** The store API handler; absent: /api/store/ answers 503 with the reason. */
  store?: StoreHandler | undefined;
  /** Why there is no store API (shown by the pages). */
  storeMissing?: string | undefined;
  features?: FeaturesViewOptions | undefined;
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => void | Promise<void>;
interface Route { method: 'GET' | 'POST'; path: RegExp; handler: Handler; changes?: boolean }

export class DashboardRouter {
  readonly hub: StreamHub;
  private readonly routes: Route[];

  constructor(private readonly source: DashboardSource, private readonly auth: DashboardAuth, private readonly assets: Assets, private readonly extras: RouterExtras = {}) {
    this.hub = new StreamHub(source);
    const s = source;
    this.routes = [
      { method: 'GET', path: /^\/api\/cluster$/, handler: (_q, res) => sendView(res, s.cluster()) },
      { method: 'GET', path: /^\/api\/jobs$/, handler: (_q, res) => sendJson(res, 200, s.jobs()) },
      { method: 'GET', path: /^\/api\/jobs\/([\w.-]+)$/, handler: (_q, res, [id]) => sendJson(res, 200, s.job(id!)) },
      {
        method: 'GET', path: /^\/api\/jobs\/([\w.-]+)\/logs$/,
        handler: async (_q, res, [id], url) => sendJson(res, 200, await s.readLog(id!, offsetOf(url))),
      },
      { method: 'GET', path: /^\/api\/jobs\/([\w.-]+)\/logs\/stream$/, handler: (req, res, [id], url) => streamJobLog(s, id!, offsetOf(url), req, res) },
      { method: 'GET', path: /^\/api\/tasks$/, handler: (_q, res) => sendView(res, s.tasks()) },
      { method: 'GET', path: /^\/api\/events$/, handler: (_q, res) => sendJson(res, 200, s.events(EVENTS_LISTED)) },
      { method: 'GET', path: /^\/api\/metrics\/history$/, handler: (_q, res) => sendJson(res, 200, s.metrics()) },
      { method: 'GET', path: /^\/api\/stream$/, handler: (req, res) => this.hub.open(req, res) },
      { method: 'GET', path: /^\/api\/serve$/, handler: (_q, res) => sendJson(res, 200, s.serve()) },
      { method: 'GET', path: /^\/api\/datasets$/, handler: (_q, res) => sendJson(res, 200, s.datasets()) },
      { method: 'GET', path: /^\/api\/features$/, handler: async (_q, res) => sendJson(res, 200, await featuresView(extras.features)) },
      { method: 'POST', path: /^\/api\/jobs\/([\w.-]+)\/stop$/, changes: true, handler: (_q, res, [id]) => sendJson(res, 200, s.stopJob(id!)) },
      {
        method: 'POST', path: /^\/api\/serve\/deployments\/([\w.-]+)\/rollback$/, changes: true,
        handler: async (req, res, [name]) => sendJson(res, 200, await s.rollbackDeployment(await serveUrlOf(req), name!)),
      },
      {
        method: 'POST', path: /^\/api\/actors\/([\w.-]+)\/kill$/, changes: true,
        handler: (_q, res, [id]) => {
          s.killActor(id!);
          sendJson(res, 200, { killed: id });
        },
      },
    ];
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    if (path.startsWith('/assets/') && req.method === 'GET') {
      if (!this.assets.serve(path.slice('/assets/'.length), res)) sendError(res, 404, 'DASHBOARD_NOT_FOUND', `no asset ${path}`);
      return;
    }
    if (path === '/login') return void this.login(req, res, url).catch((err) => sendThrown(res, err));
    if (path === '/logout' && req.method === 'POST') {
      res.writeHead(303, { location: '/login', 'set-cookie': this.auth.logout(req) });
      res.end();
      return;
    }
    const caller = this.auth.caller(req);
    if (path.startsWith('/api/')) {
      if (!caller) return unauthorized(res);
      if (path === '/api/session' && req.method === 'GET') {
        const body: SessionView = { csrf: caller.kind === 'session' ? caller.csrf : '', readOnly: this.source.readOnly };
        return sendJson(res, 200, body);
      }
      if (path.startsWith('/api/store/')) return this.store(req, res, caller);
      for (const r of this.routes) {
        const m = r.path.exec(path);
        if (!m || r.method !== req.method) continue;
        if (r.changes) {
          const why = this.auth.mayChange(req, caller);
          if (why) return sendError(res, 403, 'CSRF', `refused ${req.method} ${path}: ${why}`);
        }
        try {
          const out = r.handler(req, res, m.slice(1).map(decodeURIComponent), url);
          if (out) void out.catch((err) => sendThrown(res, err));
        } catch (err) {
          sendThrown(res, err);
        }
        return;
      }
      return sendThrown(res, new DashboardNotFoundError(`API ${req.method} ${path}`));
    }
    if (req.method === 'GET' && PAGE_PATH.test(path)) {
      if (!caller) {
        res.writeHead(302, { location: `/login?next=${encodeURIComponent(path + url.search)}`, 'cache-control': 'no-store' });
        res.end();
        return;
      }
      return sendShell(res);
    }
    sendError(res, 404, 'DASHBOARD_NOT_FOUND', `no page ${path}`);
  }

  /** /api/store/*: the store's own handler, after the dashboard's auth (and CSRF for anything but a read). */
  private store(req: IncomingMessage, res: ServerResponse, caller: NonNullable<ReturnType<DashboardAuth['caller']>>): void {
    const handler = this.extras.store;
    if (!handler) return sendError(res, 503, 'STORE_UNAVAILABLE', `the platform store is not served here: ${this.extras.storeMissing ?? 'no store configured'}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (this.source.readOnly) return sendThrown(res, new DashboardReadOnlyError(`${req.method} ${url(req)}`));
      const why = this.auth.mayChange(req, caller);
      if (why) return sendError(res, 403, 'CSRF', `refused ${req.method} ${req.url ?? ''}: ${why}`);
    }
    try {
      const out = handler(req, res);
      if (out) void out.catch((err) => sendThrown(res, err));
    } catch (err) {
      sendThrown(res, err);
    }
  }

  private async login(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method === 'GET') return sendLogin(res, safeNext(url.searchParams.get('next')));
    if (req.method !== 'POST') return sendError(res, 405, 'METHOD', `${req.method} /login: use GET or POST`);
    const form = new URLSearchParams(await readBody(req));
    const next = safeNext(form.get('next'));
    const session = this.auth.login(form.get('token')?.trim() ?? '');
    if (!session) return sendLogin(res, next, 'That is not the token of this cluster.', 401);
    res.writeHead(303, { location: next, 'set-cookie': session.cookie, 'cache-control': 'no-store' });
    res.end();
  }
}

const url = (req: IncomingMessage): string => (req.url ?? '').split('?')[0]!;

function offsetOf(url: URL): number {
  const raw = url.searchParams.get('offset') ?? '0';
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidOptionError(`log offset '${raw}' is not a byte offset (a non-negative integer)`);
  return n;
}

/** The serve instance a rollback names: the body `{ "url": "http://…" }` (one the instance published; the source checks). */
async function serveUrlOf(req: IncomingMessage): Promise<string> {
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    throw new InvalidOptionError('the rollback body must be JSON: { "url": "<the serve instance>" }');
  }
  const u = (body as { url?: unknown } | null)?.url;
  if (typeof u !== 'string' || !/^https?:\/\/[^/]+\/?$/.test(u) || u.length > 300) {
    throw new InvalidOptionError(`the rollback body's 'url' must be a serve instance's address (http://host:port); got ${JSON.stringify(u)?.slice(0, 80)}`);
  }
  return u;
}
