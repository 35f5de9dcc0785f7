/**
 * A control-only client of the Head gRPC service: control calls, bundle upload and job logs, with
 * no session (a session would register this command as a driver with the head). Built on the
 * public proto file because core's transport helpers are internal; wire bodies are msgpack with
 * the same settings as core's `packMessage`.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Packr } from 'msgpackr';
import { join } from 'node:path';
import { ConnectionError, InvalidOptionsError, PACKAGE_ROOT, ShoalError } from '../core/index.js';
import { TokenRejectedError } from './errors.js';

/** Deadline of one control call. */
export const CONTROL_TIMEOUT_MS = 10_000;
/** Deadline of a bundle upload. */
export const UPLOAD_TIMEOUT_MS = 120_000;

const wire = new Packr({ useRecords: false, mapsAsObjects: true, structuredClone: false });

type Callback<T> = (err: grpc.ServiceError | null, reply?: T) => void;
interface RawHeadClient extends grpc.Client {
  Control(req: { method: string; body: Uint8Array }, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<{ body: Uint8Array }>): void;
  HasBundle(req: { hash: string }, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<{ present: boolean }>): void;
  PutBundle(req: { hash: string; code: Uint8Array }, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<{ present: boolean }>): void;
  JobLogs(req: { jobId: string; follow: boolean; offset: number }, md: grpc.Metadata): grpc.ClientReadableStream<{ data: Buffer }>;
}
type HeadClientCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => RawHeadClient;

let headCtor: HeadClientCtor | undefined;
function loadHeadClient(): HeadClientCtor {
  if (!headCtor) {
    const def = protoLoader.loadSync(join(PACKAGE_ROOT, 'proto', 'shoal.proto'), { longs: String, enums: String, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { shoal: { v1: { Head: HeadClientCtor } } };
    headCtor = pkg.shoal.v1.Head;
  }
  return headCtor;
}

export interface HeadTarget {
  address: string;
  token: string;
  /** Where the token came from, for error messages (`--token-file /x`, `SHOAL_TOKEN`, ...). */
  tokenSource: string;
}

export class HeadClient {
  private readonly client: RawHeadClient;

  constructor(readonly target: HeadTarget) {
    const Ctor = loadHeadClient();
    this.client = new Ctor(target.address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    });
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${this.target.token}`);
    return md;
  }

  /** One control call (`status`, `job-submit`, ...); the head's typed errors come back as such. */
  control<T>(method: string, body: unknown = null, timeoutMs = CONTROL_TIMEOUT_MS): Promise<T> {
    return new Promise((resolve, reject) => {
      this.client.Control({ method, body: wire.pack(body) }, this.metadata(), { deadline: Date.now() + timeoutMs }, (err, reply) =>
        err ? reject(this.failure(err)) : resolve(wire.unpack(reply!.body) as T),
      );
    });
  }

  /** Uploads a code bundle unless the head has it already. */
  async uploadBundle(hash: string, code: Uint8Array): Promise<void> {
    const present = await new Promise<boolean>((resolve, reject) =>
      this.client.HasBundle({ hash }, this.metadata(), { deadline: Date.now() + CONTROL_TIMEOUT_MS }, (err, r) =>
        err ? reject(this.failure(err)) : resolve(!!r?.present),
      ),
    );
    if (present) return;
    await new Promise<void>((resolve, reject) =>
      this.client.PutBundle({ hash, code }, this.metadata(), { deadline: Date.now() + UPLOAD_TIMEOUT_MS }, (err) =>
        err ? reject(this.failure(err)) : resolve(),
      ),
    );
  }

  /**
   * Streams a job's log from byte `offset` to `onData`; with `follow`, until the job ends.
   * Resolves with the offset after the last byte received. `signal` stops following early.
   */
  jobLogs(jobId: string, opts: { follow: boolean; offset?: number; signal?: AbortSignal }, onData: (chunk: Buffer) => void): Promise<number> {
    let offset = opts.offset ?? 0;
    return new Promise((resolve, reject) => {
      const call = this.client.JobLogs({ jobId, follow: opts.follow, offset }, this.metadata());
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
    this.client.close();
  }

  /** Maps a failed call to the typed error a user should see. */
  private failure(err: grpc.ServiceError): Error {
    const address = this.target.address;
    switch (err.code) {
      case grpc.status.UNAUTHENTICATED:
        return new TokenRejectedError(address, this.target.tokenSource);
      case grpc.status.UNAVAILABLE:
        return new ConnectionError(address, `nothing answers there (${unavailableReason(err.details)}); is the head running? (\`shoal start --head\` starts one)`, { cause: err });
      case grpc.status.DEADLINE_EXCEEDED:
        return new ConnectionError(address, 'the call timed out', { cause: err });
      case grpc.status.UNIMPLEMENTED:
        return new ConnectionError(address, 'the server there is not a shoal head (it does not implement shoal.v1.Head)', { cause: err });
      case grpc.status.NOT_FOUND:
      case grpc.status.INVALID_ARGUMENT:
        return new InvalidOptionsError(err.details);
      case grpc.status.FAILED_PRECONDITION:
        return fromWire(err.details) ?? new ShoalError(err.details);
      default:
        return new ConnectionError(address, err.details || err.message, { cause: err });
    }
  }
}

/** The useful part of grpc-js's UNAVAILABLE details ("No connection established. Last error: ..."). */
function unavailableReason(details: string): string {
  const code = /\b(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN)\b/.exec(details)?.[1];
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code) return code;
  return details.replace(/\s*Resolution note:\s*$/, '') || 'unavailable';
}

/** Rebuilds a shoal error the head sent as JSON (core's errorFromWire is internal). */
function fromWire(details: string): Error | undefined {
  let w: { name?: string; code?: string; message?: string };
  try {
    w = JSON.parse(details) as typeof w;
  } catch {
    return undefined;
  }
  if (typeof w.message !== 'string') return undefined;
  if (w.name === 'InvalidOptionsError') return new InvalidOptionsError(w.message);
  const e = new ShoalError(w.message);
  e.name = w.name ?? 'ShoalError';
  (e as { code: string }).code = w.code ?? 'SHOAL_ERROR';
  return e;
}
