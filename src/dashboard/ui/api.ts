/** The pages' side of the JSON API: reads, actions (with the session's CSRF header), streams. */
import { useEffect, useState } from 'preact/hooks';
import type { ErrorReply, SessionView } from '../api-types.js';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

let session: SessionView | undefined;

async function reply<T>(res: Response): Promise<T> {
  if (res.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    throw new ApiError(401, 'UNAUTHORIZED', 'not logged in');
  }
  const body = (await res.json()) as T | ErrorReply;
  if (!res.ok) {
    const e = (body as ErrorReply).error;
    throw new ApiError(res.status, e?.code ?? 'HTTP', e?.message ?? `HTTP ${res.status}`);
  }
  return body as T;
}

export async function getJson<T>(path: string): Promise<T> {
  return reply<T>(await fetch(path, { credentials: 'same-origin' }));
}

export async function getSession(): Promise<SessionView> {
  session ??= await getJson<SessionView>('/api/session');
  return session;
}

/** A state-changing call: the session's CSRF token goes in a header a foreign page cannot set. */
export async function postAction<T>(path: string, body?: unknown): Promise<T> {
  const { csrf } = await getSession();
  const headers: Record<string, string> = { 'x-shoal-csrf': csrf };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return reply<T>(await fetch(path, { method: 'POST', credentials: 'same-origin', headers, body: body === undefined ? null : JSON.stringify(body) }));
}

/** Opens a server-sent event stream; returns its closer. */
export function openStream(path: string, on: Record<string, (data: unknown) => void>): () => void {
  const es = new EventSource(path);
  for (const [event, handler] of Object.entries(on)) {
    es.addEventListener(event, (e) => handler(JSON.parse((e as MessageEvent<string>).data)));
  }
  return () => es.close();
}

/** `getJson(path)` as page state: the reply, or the error's message; fetched again when `path` or `again` changes. */
export function useJson<T>(path: string | undefined, again: unknown = 0): { data?: T | undefined; error?: string | undefined } {
  const [state, setState] = useState<{ data?: T | undefined; error?: string | undefined }>({});
  useEffect(() => {
    if (!path) return undefined;
    let live = true;
    getJson<T>(path).then((data) => live && setState({ data }), (e: Error) => live && setState({ error: e.message }));
    return () => {
      live = false;
    };
  }, [path, again]);
  return state;
}
