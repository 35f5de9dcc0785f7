/**
 * The HTTP ingress: routes by path prefix to deployments, HTTP/1.1 keep-alive, JSON in and out.
 * Inference needs a bearer serving key (never the cluster token); admin endpoints under `/-/` need
 * the cluster token. Bound to 127.0.0.1 unless told otherwise. Server: node:http (see the serve
 * bench for the measurement behind the choice).
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidOptionError, TaskError } from '../core/index.js';
import type { ServeController } from './controller.js';
import { BodyTooLargeError, DeploymentNotFoundError, OverloadedError, ServeError, UnauthorizedError } from './errors.js';
import type { ExposureSink } from './exposure-log.js';
import { serveLog } from './log.js';
import { handleAdmin, type AdminHooks } from './admin-endpoints.js';
import { bearer, hasBody, parseJson, readBody, send, stackForLog } from './http-util.js';
import { hashKey, loadServeKeyHashes } from './serve-keys.js';
import type { ExposureRecord, ServeRequest } from './serve-types.js';

/** Accepted serving keys remembered (by value, in memory only) so a request skips hashing its key. */
const ACCEPTED_CACHE = 256;

export interface HttpProxyOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 8000 */
  port?: number;
  /** sha256 hashes of the accepted serving keys (see `createServeKey`). */
  serveKeyHashes: string[];
  /** The cluster token: admin endpoints need it; it is refused as a serving key. */
  clusterToken: string;
  /** Largest request body. @default 1 MiB */
  maxBodyBytes?: number;
  /** The serving keys file, re-read by `POST /-/keys/reload`. */
  serveKeysFile?: string | undefined;
  /** Where answered requests are recorded (see `exposure-log.ts`). */
  exposureLog?: ExposureSink | undefined;
}

/** Item ids of an answer shaped `{ items: [...] }` (ids, or objects with `id`), for the exposure log. */
function itemsOf(value: unknown): string[] | undefined {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { items?: unknown }).items)) return undefined;
  return ((value as { items: unknown[] }).items).map((i) => String(typeof i === 'object' && i !== null && 'id' in i ? (i as { id: unknown }).id : i));
}

/** The items' scores of an answer shaped `{ items: [{ id, score }, ...] }`, when every item has a finite numeric score; else null. */
function scoresOf(value: unknown): number[] | null {
  const items = (value as { items: unknown[] }).items;
  const out: number[] = [];
  for (const i of items) {
    const s = typeof i === 'object' && i !== null ? (i as { score?: unknown }).score : undefined;
    if (typeof s !== 'number' || !Number.isFinite(s)) return null;
    out.push(s);
  }
  return out;
}

/** The `user` field of a JSON object body (a string or an integer), the routing key of a POST. */
function bodyUser(body: unknown): string | undefined {
  const u = typeof body === 'object' && body !== null ? (body as { user?: unknown }).user : undefined;
  return typeof u === 'string' ? u : typeof u === 'number' && Number.isFinite(u) ? String(u) : undefined;
}

/** The user an answer names (`{ user: '123', ... }`), for the exposure log. */
function userOf(value: unknown): string | undefined {
  const u = typeof value === 'object' && value !== null ? (value as { user?: unknown }).user : undefined;
  return typeof u === 'string' ? u : undefined;
}

export class HttpProxy {
  private server: Server | undefined;
  private readonly maxBodyBytes: number;
  private readonly keyHashes: Set<string>;
  private readonly tokenHash: Buffer;

  constructor(readonly controller: ServeController, readonly options: HttpProxyOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? 1 << 20;
    this.keyHashes = new Set(options.serveKeyHashes);
    this.tokenHash = Buffer.from(hashKey(options.clusterToken), 'hex');
  }

  /** What the admin endpoints call beyond the controller (shutdown: the Serve instance's). */
  adminHooks: AdminHooks = {};

  /** Accepts another serving key (by its hash) without a restart. */
  addKeyHash(sha256: string): void {
    this.keyHashes.add(sha256);
  }

  /** Re-reads the serving keys file (after `shoal serve keys create`); returns how many keys are accepted. */
  reloadKeys(): number {
    if (this.options.serveKeysFile) for (const h of loadServeKeyHashes(this.options.serveKeysFile)) this.keyHashes.add(h);
    return this.keyHashes.size;
  }

  async listen(): Promise<{ host: string; port: number; url: string }> {
    const server = createServer({ keepAlive: true, keepAliveTimeout: 65_000 }, (req, res) => {
      this.onRequest(req, res).catch((err: unknown) => {
        serveLog.error({ err: String(err) }, 'ingress failed to answer');
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
      });
    });
    server.keepAliveTimeout = 65_000;
    this.server = server;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 8000, host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    return { host, port, url: `http://${host}:${port}` };
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeIdleConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q < 0 ? raw : raw.slice(0, q);
    try {
      if (pathname.startsWith('/-/')) {
        await handleAdmin({ req, res, pathname, controller: this.controller, clusterToken: this.options.clusterToken, maxBodyBytes: this.maxBodyBytes, hooks: this.adminHooks, reloadKeys: () => this.reloadKeys() });
        return;
      }
      this.checkServeKey(req);
      const routed = this.controller.route(pathname);
      if (!routed) throw new DeploymentNotFoundError(pathname, [...this.controller.deployments.values()].map((d) => d.route));
      const body = hasBody(req) ? parseJson(await readBody(req, this.maxBodyBytes)) : undefined;
      const query: Record<string, string> = q < 0 ? {} : Object.fromEntries(new URLSearchParams(raw.slice(q + 1)));
      const headerKey = req.headers['x-shoal-key'];
      const key = (typeof headerKey === 'string' ? headerKey : undefined) ?? query.user ?? bodyUser(body) ?? routed.rest.replace(/^\//, '');
      const request: ServeRequest = { requestId, method: req.method ?? 'GET', path: routed.rest, query, body, key };
      const answer = await routed.state.handle(request);
      send(res, 200, answer.value, { 'x-shoal-version': answer.version, 'x-shoal-arm': answer.arm, 'x-request-id': requestId });
      const items = this.options.exposureLog ? itemsOf(answer.value) : undefined;
      if (items) {
        const rec: ExposureRecord = { requestId, timeMs: Date.now(), user: userOf(answer.value) ?? key, items, modelVersion: answer.version, arm: answer.arm, scores: scoresOf(answer.value) };
        this.options.exposureLog!.append(rec);
      }
    } catch (err) {
      this.fail(res, err, requestId);
    }
  }

  private fail(res: ServerResponse, err: unknown, requestId: string): void {
    if (err instanceof ServeError) {
      const headers: Record<string, string> = { 'x-request-id': requestId };
      if (err instanceof OverloadedError) headers['retry-after'] = '1';
      if (err.status >= 500) serveLog.warn({ requestId, code: err.code, err: err.message }, 'request failed');
      if (err instanceof BodyTooLargeError) headers.connection = 'close';
      send(res, err.status, { error: err.message, code: err.code, requestId }, headers);
      return;
    }
    if (err instanceof InvalidOptionError) {
      send(res, 400, { error: err.message, code: err.code, requestId }, { 'x-request-id': requestId });
      return;
    }
    // An exception in user code (or anything unexpected): 500 with the request id; the stack is in the log.
    serveLog.error({ requestId, stack: stackForLog(err) }, 'request failed in user code');
    const what = err instanceof TaskError ? `${err.causeName}: ${err.causeMessage}` : 'internal error';
    send(res, 500, { error: `the deployment failed: ${what}`, requestId }, { 'x-request-id': requestId });
  }

  /** Keys that passed the check (at most ACCEPTED_CACHE; a refused key is never kept): no sha256 per request for them. */
  private readonly accepted = new Set<string>();

  /** The key's sha256 is compared with the cluster token's and looked up among the keys'. */
  private checkServeKey(req: IncomingMessage): void {
    const key = bearer(req);
    if (!key) throw new UnauthorizedError('missing serving key: send `Authorization: Bearer <key>` (create one with `shoal serve keys create`)');
    if (this.accepted.has(key)) return;
    const h = hashKey(key);
    if (timingSafeEqual(Buffer.from(h, 'hex'), this.tokenHash)) {
      throw new UnauthorizedError('the cluster token is not a serving key: create one with `shoal serve keys create`');
    }
    if (!this.keyHashes.has(h)) throw new UnauthorizedError('wrong serving key');
    if (this.accepted.size >= ACCEPTED_CACHE) this.accepted.clear();
    this.accepted.add(key);
  }
}
