/** Small HTTP helpers of the dashboard server: JSON replies, bodies, errors mapped to statuses. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidOptionError } from '../../core/index.js';
import type { ErrorReply } from '../api-types.js';
import { DashboardActionError, DashboardError, DashboardNotFoundError, DashboardReadOnlyError } from '../errors.js';

/** Largest request body read (a login form, an action): anything bigger is refused. */
export const MAX_BODY_BYTES = 16 * 1024;

/** Headers every reply carries: no framing, no sniffing, no caching of cluster data. */
export const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * JSON of the views the sources memoize (live-source.ts): pages polling the same view within its
 * cache window share one JSON.stringify (a tasks view during a storm is the head's largest reply).
 */
const jsonOf = new WeakMap<object, string>();

/** Sends a memoized view (never mutated once made) as JSON, stringified once per view object. */
export function sendView(res: ServerResponse, view: object): void {
  let text = jsonOf.get(view);
  if (text === undefined) {
    text = JSON.stringify(view);
    jsonOf.set(view, text);
  }
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' });
  res.end(text);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body: ErrorReply = { error: { code, message } };
  sendJson(res, status, body);
}

/** The status of an error a handler threw: 404, 409 (read-only), 502 (another process refused the action), 400 (bad input) or 500. */
export function sendThrown(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof DashboardNotFoundError) return sendError(res, 404, err.code, err.message);
  if (err instanceof DashboardReadOnlyError) return sendError(res, 409, err.code, err.message);
  if (err instanceof DashboardActionError) return sendError(res, 502, err.code, err.message);
  if (err instanceof InvalidOptionError || err instanceof DashboardError) return sendError(res, 400, err.code, err.message);
  sendError(res, 500, 'INTERNAL', err instanceof Error ? err.message : String(err));
}

/** The request body as text, refused past MAX_BODY_BYTES. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new DashboardError(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Cookies of a request, by name. */
export function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()));
  }
  return out;
}
