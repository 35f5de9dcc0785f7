/** The pages' side of the JSON API: reads, actions (with the session's CSRF header), streams. */
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
export async function postAction<T>(path: string): Promise<T> {
  const { csrf } = await getSession();
  return reply<T>(await fetch(path, { method: 'POST', credentials: 'same-origin', headers: { 'x-shoal-csrf': csrf } }));
}

/** Opens a server-sent event stream; returns its closer. */
export function openStream(path: string, on: Record<string, (data: unknown) => void>): () => void {
  const es = new EventSource(path);
  for (const [event, handler] of Object.entries(on)) {
    es.addEventListener(event, (e) => handler(JSON.parse((e as MessageEvent<string>).data)));
  }
  return () => es.close();
}
