/**
 * JSON over node:http for the store's REST API: replies with the security headers, the request body
 * read with a size cap, query parameters checked against what a route takes, and each typed error
 * mapped to its status in one place (not found 404, bad input 400, a moved alias 409, the database
 * unreachable 503). The reply body of an error is `{ error: { code, message, context } }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidOptionError, ShoalError } from '../../core/index.js';
import {
  AliasConflictError, FilterSyntaxError, InvalidModelUriError, InvalidNameError, StoreNotFoundError, StoreRequestError, StoreSchemaError, StoreUnavailableError,
} from '../errors.js';

/** Largest request body read (an alias move is a few dozen bytes). */
export const MAX_BODY_BYTES = 16 * 1024;

/** Headers every reply carries: no sniffing, no framing, no caching of store data. */
const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** What every error reply holds. */
export interface StoreApiErrorReply {
  error: { code: string; message: string; context?: Record<string, unknown> | undefined };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, context?: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const body: StoreApiErrorReply = { error: { code, message, ...(context ? { context } : {}) } };
  sendJson(res, status, body, headers);
}

/** The HTTP status of an error a route threw. */
export function statusOf(err: unknown): number {
  if (err instanceof StoreRequestError) return err.status;
  if (err instanceof StoreNotFoundError) return 404;
  if (err instanceof AliasConflictError) return 409;
  if (err instanceof InvalidNameError || err instanceof InvalidModelUriError || err instanceof FilterSyntaxError || err instanceof InvalidOptionError) return 400;
  if (err instanceof StoreUnavailableError || err instanceof StoreSchemaError) return 503;
  return 500;
}

/** Answers with the error a route threw (its code, message and context; 500 `INTERNAL` for an untyped one). */
export function sendThrown(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = statusOf(err);
  if (err instanceof ShoalError) return sendError(res, status, err.code, err.message, err.context());
  sendError(res, 500, 'INTERNAL', err instanceof Error ? err.message : String(err));
}

/** The request body as text; refuses one over {@link MAX_BODY_BYTES} (413). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      reject(new StoreRequestError(413, 'request body', `must be at most ${MAX_BODY_BYTES} bytes; content-length is ${declared}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        reject(new StoreRequestError(413, 'request body', `must be at most ${MAX_BODY_BYTES} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/** The body as a JSON object; 400 for anything else. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new StoreRequestError(400, 'request body', `must be a JSON object: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new StoreRequestError(400, 'request body', 'must be a JSON object');
  return value as Record<string, unknown>;
}

/** Query parameters of a route: the ones it takes, each at most once unless `repeatable`. */
export class Query {
  constructor(private readonly params: URLSearchParams, allowed: readonly string[], repeatable: readonly string[] = []) {
    const seen = new Set<string>();
    for (const key of params.keys()) {
      if (!allowed.includes(key)) {
        throw new StoreRequestError(400, `query parameter '${key}'`, allowed.length ? `is not one this path takes (${allowed.join(', ')})` : 'is not taken: this path takes none');
      }
      if (seen.has(key) && !repeatable.includes(key)) throw new StoreRequestError(400, `query parameter '${key}'`, 'must be given once');
      seen.add(key);
    }
  }

  string(key: string, maxLength = 4096): string | undefined {
    const v = this.params.get(key);
    if (v === null) return undefined;
    if (v.length > maxLength) throw new StoreRequestError(400, `query parameter '${key}'`, `must be at most ${maxLength} characters`);
    return v;
  }

  required(key: string, maxLength?: number): string {
    const v = this.string(key, maxLength);
    if (v === undefined || v === '') throw new StoreRequestError(400, `query parameter '${key}'`, 'is required');
    return v;
  }

  /** Every value of `key`, comma-separated values split, empty ones dropped. */
  list(key: string): string[] {
    return this.params.getAll(key).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const v = this.params.get(key);
    if (v === null) return fallback;
    if (!/^\d{1,10}$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new StoreRequestError(400, `query parameter '${key}'`, `must be an integer from ${min} to ${max}; got ${JSON.stringify(v.slice(0, 40))}`);
    }
    return Number(v);
  }
}
