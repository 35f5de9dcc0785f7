/**
 * Connecting to PostgreSQL with retries: a server that is unreachable, starting up or out of
 * connection slots is often so only for a moment (a restart, a failover, a burst of partition reads),
 * so those failures are retried with exponential backoff and jitter. Refused credentials, a missing
 * database or role and malformed URLs are not transient and fail at once.
 */
import pg from 'pg';
import { PostgresError } from '../errors.js';

export interface PgConnectOptions {
  /** Connection attempts before giving up. @default 5 */
  readonly attempts?: number;
  /** Delay before the first retry; doubled each retry, with jitter. @default 100 */
  readonly initialDelayMs?: number;
  /** @default 2000 */
  readonly maxDelayMs?: number;
  /** Timeout of one attempt. @default 10_000 */
  readonly connectTimeoutMs?: number;
}

const TRANSIENT_NET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE']);
/** SQLSTATEs worth retrying: connection exceptions (class 08), the server starting or shutting down, no free connection slots. */
const TRANSIENT_SQLSTATE = /^(08...|57P0[1-3]|53300)$/;

/** True for failures a later attempt may not see (network trouble, server starting, too many connections). */
export function isTransientPgError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (TRANSIENT_NET.has(code) || TRANSIENT_SQLSTATE.test(code))) return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated unexpectedly|timeout expired|Connection terminated due to connection timeout/i.test(message);
}

/** The URL with its password hidden, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/:[^:@/]*@/, ':***@');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A connected client; transient failures are retried (see the header), others throw a PostgresError at once. */
export async function connectPostgres(url: string, options: PgConnectOptions = {}): Promise<pg.Client> {
  const attempts = options.attempts ?? 5;
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 2000;
  for (let attempt = 1; ; attempt++) {
    let client: pg.Client | undefined;
    try {
      client = new pg.Client({ connectionString: url, connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000 });
      await client.connect();
      return client;
    } catch (cause) {
      await client?.end().catch(() => undefined);
      const transient = isTransientPgError(cause);
      if (!transient || attempt >= attempts) {
        const tries = transient ? ` after ${attempt} attempt${attempt > 1 ? 's' : ''}` : '';
        throw new PostgresError(`cannot connect to PostgreSQL at ${redactUrl(url)}${tries}: ${cause instanceof Error ? cause.message : String(cause)}`, undefined, undefined, { cause });
      }
      const delay = Math.min(max, initial * 2 ** (attempt - 1));
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
}
