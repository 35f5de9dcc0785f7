/**
 * A client of the Head service for everything but the session stream: control calls, code bundle
 * upload and download, and job logs. Drivers, workers and the `shoal` command share it, so a failed
 * call becomes the same typed error everywhere.
 */
import * as grpc from '@grpc/grpc-js';
import { BUNDLE_CHUNK_BYTES } from '../constants.js';
import { ConnectionError, errorFromWire, InvalidOptionError, ShoalError, type WireError } from '../errors.js';
import type { ControlArgs, ControlMethod, ControlReplies } from './control.js';
import type { Frame } from './generated/shoal/v1/Frame.js';
import type { HeadClient as GeneratedHeadClient } from './generated/shoal/v1/Head.js';
import { packMessage, unpackMessage } from './serialization.js';
import { channelCredentials, channelOptions, connectionFailure, loadProto, tokenMetadata, type TlsOptions } from './transport.js';

/** Deadline of one control call. */
export const CONTROL_TIMEOUT_MS = 10_000;
/** Deadline of a bundle upload or download. */
export const BUNDLE_TIMEOUT_MS = 120_000;

/** How long a driver or worker keeps trying to get its session back after losing the head. */
export const RECONNECT_TIMEOUT_MS = 60_000;
const RECONNECT_FIRST_DELAY_MS = 100;
const RECONNECT_MAX_DELAY_MS = 2_000;

/** The reconnect timeout: the option, else `SHOAL_RECONNECT_TIMEOUT_MS`, else the default. */
export function reconnectTimeoutMs(option?: number): number {
  const env = Number(process.env.SHOAL_RECONNECT_TIMEOUT_MS);
  const ms = option ?? (Number.isFinite(env) && env > 0 ? env : RECONNECT_TIMEOUT_MS);
  if (!Number.isFinite(ms) || ms < 0) throw new InvalidOptionError(`reconnectTimeoutMs must be a non-negative number of milliseconds (got ${ms})`);
  return ms;
}

/**
 * Runs `attempt` until it resolves, waiting 100 ms, then doubling up to 2 s, between tries; rejects
 * with the last error once `timeoutMs` has passed, or at once when `fatal(err)` says so or
 * `cancelled()` turns true.
 */
export async function withBackoff<T>(
  attempt: () => Promise<T>,
  opts: { timeoutMs: number; fatal?: (err: unknown) => boolean; cancelled?: () => boolean },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let delay = RECONNECT_FIRST_DELAY_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (opts.fatal?.(err) || opts.cancelled?.() || Date.now() + delay > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS);
  }
}

export interface HeadTarget {
  address: string;
  token: string;
  tls?: TlsOptions | undefined;
  /** Where the token came from (`--token-file /x`, `SHOAL_TOKEN`, ...), named when it is rejected. */
  tokenSource?: string | undefined;
}

export class HeadClient {
  readonly raw: GeneratedHeadClient;

  constructor(readonly target: HeadTarget) {
    const proto = loadProto();
    this.raw = new proto.shoal.v1.Head(target.address, channelCredentials(target.tls), channelOptions);
  }

  private metadata(): grpc.Metadata {
    return tokenMetadata(this.target.token);
  }

  /** Opens the session stream of a driver or worker. */
  session(): grpc.ClientDuplexStream<Frame, Frame> {
    return this.raw.Session(this.metadata()) as grpc.ClientDuplexStream<Frame, Frame>;
  }

  /**
   * One control call (`status`, `job-submit`, ...), typed by the table in control.ts; the head's
   * typed errors come back as such.
   */
  control<M extends ControlMethod>(method: M, ...[body = null, timeoutMs = CONTROL_TIMEOUT_MS]: ControlArgs<M>): Promise<ControlReplies[M]> {
    return this.call((resolve, reject) => {
      this.raw.Control({ method, body: packMessage(body) }, this.metadata(), { deadline: Date.now() + timeoutMs }, (err, reply) =>
        err ? reject(this.failure(err)) : resolve(unpackMessage<ControlReplies[M]>(reply!.body)),
      );
    });
  }

  /** Uploads a code bundle unless the head has it already. */
  async uploadBundle(hash: string, code: Uint8Array): Promise<void> {
    const present = await this.call<boolean>((resolve, reject) =>
      this.raw.HasBundle({ hash }, this.metadata(), { deadline: Date.now() + CONTROL_TIMEOUT_MS }, (err, r) =>
        err ? reject(this.failure(err)) : resolve(!!r?.present),
      ),
    );
    if (present) return;
    // In chunks: servers cap the size of one message, and the head writes chunks to disk as they come.
    await this.call<void>((resolve, reject) => {
      const call = this.raw.PutBundleChunks(this.metadata(), { deadline: Date.now() + BUNDLE_TIMEOUT_MS }, (err) =>
        err ? reject(this.failure(err)) : resolve(),
      );
      let offset = 0;
      const writeMore = (): void => {
        do {
          const end = Math.min(offset + BUNDLE_CHUNK_BYTES, code.byteLength);
          const data = code.subarray(offset, end);
          const first = offset === 0;
          offset = end;
          if (!call.write(first ? { hash, size: code.byteLength, data } : { data }) && offset < code.byteLength) {
            call.once('drain', writeMore);
            return;
          }
        } while (offset < code.byteLength);
        call.end();
      };
      writeMore();
    });
  }

  /** Downloads a code bundle. */
  downloadBundle(hash: string): Promise<Uint8Array> {
    return this.call((resolve, reject) =>
      this.raw.GetBundle({ hash }, this.metadata(), { deadline: Date.now() + BUNDLE_TIMEOUT_MS }, (err, r) =>
        err || !r ? reject(err ? this.failure(err) : new ShoalError(`no reply for bundle ${hash}`)) : resolve(r.code),
      ),
    );
  }

  /**
   * Streams a job's log from byte `offset` to `onData`; with `follow`, until the job ends.
   * Resolves with the offset after the last byte received. `signal` stops following early.
   */
  jobLogs(jobId: string, opts: { follow: boolean; offset?: number; signal?: AbortSignal }, onData: (chunk: Buffer) => void): Promise<number> {
    let offset = opts.offset ?? 0;
    return this.call((resolve, reject) => {
      const call = this.raw.JobLogs({ jobId, follow: opts.follow, offset }, this.metadata());
      const onAbort = (): void => call.cancel();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      call.on('data', (chunk: { data: Buffer }) => {
        offset += chunk.data.byteLength;
        onData(chunk.data);
      });
      call.on('end', () => {
        opts.signal?.removeEventListener('abort', onAbort);
        resolve(offset);
      });
      call.on('error', (err: grpc.ServiceError) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (err.code === grpc.status.CANCELLED && opts.signal?.aborted) resolve(offset);
        else reject(this.failure(err));
      });
    });
  }

  close(): void {
    this.raw.close();
  }

  /**
   * The promise of one call. A call started on a closed client throws at once ("Channel has been
   * shut down": a driver or worker replaced this client while resuming its session); that becomes
   * the ConnectionError of a head that did not answer, so a caller that retries on those tries again.
   */
  private call<T>(start: (resolve: (value: T) => void, reject: (err: Error) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        start(resolve, reject);
      } catch (err) {
        reject(new ConnectionError(this.target.address, `the call could not start (${(err as Error).message})`, { cause: err }));
      }
    });
  }

  /** Maps a failed call to the typed error a user should see. */
  private failure(err: grpc.ServiceError): Error {
    switch (err.code) {
      case grpc.status.NOT_FOUND:
      case grpc.status.INVALID_ARGUMENT:
        return new InvalidOptionError(err.details);
      case grpc.status.FAILED_PRECONDITION:
        try {
          return errorFromWire(JSON.parse(err.details) as WireError);
        } catch {
          return new ShoalError(err.details);
        }
      default:
        return connectionFailure(this.target.address, err, this.target.tokenSource);
    }
  }
}
