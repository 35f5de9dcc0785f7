/**
 * The two HTML documents the server writes: the app shell (the pages are drawn by the bundled
 * script, /assets/app.js) and the login page, which works without any script.
 */
import type { ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from './http.js';

/** No inline script anywhere; styles inline only for the charts' own elements. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'";

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CONTENT_SECURITY_POLICY, ...headers });
  res.end(html);
}

export function sendShell(res: ServerResponse): void {
  sendHtml(res, 200, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>shoal dashboard</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/app.css"></head>
<body><div id="app"></div><script type="module" src="/assets/app.js"></script></body></html>
`);
}

/** The login page; `next` is where to go after (a path on this server), `error` why the last try failed. */
export function sendLogin(res: ServerResponse, next: string, error?: string, status = 200): void {
  sendHtml(res, status, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>shoal dashboard: log in</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/app.css"></head>
<body class="login"><main class="login-box"><h1>shoal</h1>
<p>Paste the cluster token (the head's token file, e.g. <code>cat ~/.shoal/sessions/…/token</code>).</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login"><input type="hidden" name="next" value="${escapeHtml(next)}">
<label>Cluster token <input type="password" name="token" id="token" autocomplete="off" autofocus required></label>
<button type="submit">Log in</button></form></main></body></html>
`);
}

/** A `next` target that stays on this server: a path, never `//host` or a URL. */
export function safeNext(next: string | null | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}
