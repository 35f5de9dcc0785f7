/**
 * Runs a command against the head the flags and environment point to. When no token is at hand,
 * the address is tried first: with nothing listening there, that is what the user needs to hear,
 * not which token is missing.
 */
import { connect } from 'node:net';
import { ConnectionError, HeadClient } from '../core/index.js';
import { MissingTokenError } from './errors.js';
import { resolveTarget, type TargetFlags } from './target.js';

/** How long the reachability probe waits for a TCP connection. */
const PROBE_TIMEOUT_MS = 3000;

/** Runs `fn` with a client of the cluster the flags and environment point to, then closes it. */
export async function withHead<T>(flags: TargetFlags, fn: (head: HeadClient) => Promise<T>): Promise<T> {
  let target: ReturnType<typeof resolveTarget>;
  try {
    target = resolveTarget(flags);
  } catch (err) {
    if (err instanceof MissingTokenError) await probe(err.address);
    throw err;
  }
  const head = new HeadClient(target);
  try {
    return await fn(head);
  } finally {
    head.close();
  }
}

/** Rejects with the unreachable-head error when nothing accepts a TCP connection at `address`. */
async function probe(address: string): Promise<void> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  const failure = await new Promise<string | undefined>((resolve) => {
    const socket = connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('no answer within 3 s');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'connection refused' : (e.code ?? e.message)));
  });
  if (failure) {
    throw new ConnectionError(address, `nothing answers there (${failure}); is the head running? (\`shoal start --head\` starts one)`);
  }
}
