/**
 * Who may use the dashboard. The cluster token unlocks it: the login page takes the token and sets
 * an HttpOnly, SameSite=Strict session cookie; API calls without it (or a Bearer token, for
 * programs such as the CLI) get 401. State-changing calls made with the cookie also need the
 * session's CSRF token in a header and, when the browser sends one, an Origin of this server:
 * a page of another site can make the browser send neither.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cookies } from './http.js';

export const SESSION_COOKIE = 'shoal_session';
export const CSRF_HEADER = 'x-shoal-csrf';
/** A login lasts this long. */
export const SESSION_TTL_MS = 12 * 3600 * 1000;
/** Sessions kept at most (the oldest go first): logins cannot grow the head's memory without bound. */
export const MAX_SESSIONS = 1000;

interface Session { csrf: string; expires: number }

export type Caller = { kind: 'session'; csrf: string } | { kind: 'bearer' };

const equal = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export class DashboardAuth {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly checkToken: (token: string) => boolean) {}

  /** A session for a caller that gave the right token, or undefined. */
  login(token: string): { id: string; cookie: string } | undefined {
    if (!this.checkToken(token)) return undefined;
    const id = randomBytes(24).toString('base64url');
    this.sessions.set(id, { csrf: randomBytes(24).toString('base64url'), expires: Date.now() + SESSION_TTL_MS });
    while (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return { id, cookie: `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}` };
  }

  logout(req: IncomingMessage): string {
    const id = cookies(req).get(SESSION_COOKIE);
    if (id) this.sessions.delete(id);
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }

  /** The caller of a request: a live session cookie or a Bearer cluster token; undefined otherwise. */
  caller(req: IncomingMessage): Caller | undefined {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && this.checkToken(auth.slice(7))) return { kind: 'bearer' };
    const id = cookies(req).get(SESSION_COOKIE);
    const s = id ? this.sessions.get(id) : undefined;
    if (!id || !s) return undefined;
    if (s.expires < Date.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return { kind: 'session', csrf: s.csrf };
  }

  /**
   * Whether a state-changing request may go on; says why not otherwise. A Bearer caller is a
   * program that holds the token; a cookie caller must prove the page is ours.
   */
  mayChange(req: IncomingMessage, caller: Caller): string | undefined {
    if (caller.kind === 'bearer') return undefined;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`) return `origin ${origin} is not this dashboard`;
    const given = req.headers[CSRF_HEADER];
    if (typeof given !== 'string' || !equal(given, caller.csrf)) return `missing or wrong ${CSRF_HEADER} header`;
    return undefined;
  }
}

/** Sends the 401 of an API call without a session or token. */
export function unauthorized(res: ServerResponse): void {
  res.writeHead(401, { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'log in at /login with the cluster token (or send Authorization: Bearer <token>)' } }));
}
