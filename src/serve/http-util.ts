/** The ingress's HTTP helpers: JSON replies, the bearer credential, the body (bounded) and its JSON. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TaskError } from '../core/index.js';
import { BadRequestError, BodyTooLargeError } from './errors.js';

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return m?.[1]?.trim();
}

export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A request without Content-Length or Transfer-Encoding has no body (RFC 9112 §6.3). */
export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadRequestError(`malformed JSON body: ${(err as Error).message}`);
  }
}

/**
 * The stack a 500 logs under its request id. A remote error's stack already opens with its
 * `Name: message` line (V8's format); the header is added only when it does not.
 */
export function stackForLog(err: unknown): string {
  if (err instanceof TaskError) {
    const header = `${err.causeName}: ${err.causeMessage}`;
    return err.remoteStack.startsWith(header) ? err.remoteStack : `${header}\n${err.remoteStack}`;
  }
  return err instanceof Error ? (err.stack ?? String(err)) : String(err);
}
