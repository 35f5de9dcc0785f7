/**
 * gRPC plumbing: loading the services, credentials and the cluster token, and the batching session
 * channel that carries protocol messages on one long-lived stream.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { timingSafeEqual } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FRAME_SPLIT_BYTES, GRPC_CHANNEL_OPTIONS, MAX_RECEIVE_MESSAGE_BYTES, TOKEN_METADATA_KEY } from '../constants.js';
import { AuthenticationError, ConnectionError } from '../errors.js';
import { log } from '../log.js';
import type { ProtoGrpcType } from './generated/shoal.js';
import type { Frame } from './generated/shoal/v1/Frame.js';
import { PACKAGE_ROOT } from '../paths.js';
import { packMessage, unpackMessage } from './serialization.js';
import { trace } from '../trace.js';

let proto: ProtoGrpcType | undefined;

export function loadProto(): ProtoGrpcType {
  if (!proto) {
    const def = protoLoader.loadSync(join(PACKAGE_ROOT, 'proto', 'shoal.proto'), {
      longs: String, enums: String, defaults: true, oneofs: true,
    });
    proto = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  }
  return proto;
}

/** TLS with user-supplied certificates (PEM files). Without it, traffic is plaintext. */
export interface TlsOptions {
  certFile: string;
  keyFile: string;
  /** CA that signed the peers' certificates (clients verify the server with it). */
  caFile?: string;
}

export function serverCredentials(tls?: TlsOptions): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.caFile ? readFileSync(tls.caFile) : null,
    [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }],
    false,
  );
}

export function channelCredentials(tls?: TlsOptions): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.caFile ? readFileSync(tls.caFile) : null);
}

export function tokenMetadata(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set(TOKEN_METADATA_KEY, `Bearer ${token}`);
  return md;
}

/** Constant-time check of the bearer token in a call's metadata. */
export function checkToken(metadata: grpc.Metadata, token: string): boolean {
  const value = metadata.get(TOKEN_METADATA_KEY)[0];
  if (typeof value !== 'string' || !value.startsWith('Bearer ')) return false;
  const given = Buffer.from(value.slice(7));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export const unauthenticated = (what: string): grpc.ServiceError =>
  Object.assign(new Error(`missing or wrong cluster token for ${what}`), {
    code: grpc.status.UNAUTHENTICATED,
    details: `missing or wrong cluster token for ${what}`,
    metadata: new grpc.Metadata(),
  });

export const channelOptions = { ...GRPC_CHANNEL_OPTIONS };

/**
 * Refuses every call whose metadata lacks the token before any of its body is read: grpc-js starts
 * reading a call's message only once its metadata has been passed on, so an unauthenticated caller
 * cannot make the server buffer what it sends (a 512 MiB message was read whole before).
 */
export function tokenInterceptor(token: string): grpc.ServerInterceptor {
  return (method, call) => {
    const intercepted: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
      start: (next) => next({
        onReceiveMetadata: (metadata, pass) => {
          if (checkToken(metadata, token)) {
            pass(metadata);
            return;
          }
          log.warn({ peer: call.getPeer(), call: method.path }, 'rejected call with a missing or wrong token');
          intercepted.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: `missing or wrong cluster token for ${method.path}` });
        },
      }),
    });
    return intercepted;
  };
}

/** Options of every shoal gRPC server: the token checked on metadata, and a cap on message size. */
export function serverOptions(token: string): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
    'grpc.max_send_message_length': -1,
    interceptors: [tokenInterceptor(token)],
  };
}

/**
 * Packs a batch of messages into frames of about `FRAME_SPLIT_BYTES` or less (one message larger
 * than that is a frame of its own), so that no frame comes near a server's message size cap.
 */
export function packFrames(batch: unknown[]): Uint8Array[] {
  const packed = packMessage(batch);
  if (packed.byteLength <= FRAME_SPLIT_BYTES || batch.length === 1) return [packed];
  const half = Math.ceil(batch.length / 2);
  return [...packFrames(batch.slice(0, half)), ...packFrames(batch.slice(half))];
}

/**
 * The local address this host uses to reach `host` (a connected UDP socket sends nothing): what
 * a process bound to 0.0.0.0 should advertise to peers that live where the head lives.
 */
export function localAddressTowards(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const fallback = (): void => {
      sock.close();
      resolve(hostname());
    };
    sock.once('error', fallback);
    sock.connect(port, host, () => {
      const address = sock.address().address;
      sock.close();
      resolve(address);
    });
  });
}

/** Turns a failed call into the typed error a user should see. */
export function connectionFailure(address: string, err: grpc.ServiceError | Error, tokenSource?: string): Error {
  const e = err as grpc.ServiceError;
  switch (e.code) {
    case grpc.status.UNAUTHENTICATED:
      return new AuthenticationError(address, tokenSource);
    case grpc.status.UNIMPLEMENTED:
      return new ConnectionError(address, 'the server there is not a shoal head (it does not implement shoal.v1.Head)', { cause: err });
    case grpc.status.UNAVAILABLE:
      return new ConnectionError(address, `nothing answers there (${unavailableReason(e.details ?? '')}); is the head running? (\`shoal start --head\` starts one)`, { cause: err });
    case grpc.status.DEADLINE_EXCEEDED:
      return new ConnectionError(address, 'the call timed out (deadline exceeded)', { cause: err });
    case grpc.status.INTERNAL:
      if (/protocol error|parse/i.test(e.details ?? '')) {
        return new ConnectionError(address, `the server there is not a shoal head (it does not speak gRPC: ${e.details})`, { cause: err });
      }
      return new ConnectionError(address, e.details || err.message, { cause: err });
    default:
      return new ConnectionError(address, e.details || err.message, { cause: err });
  }
}

/** The useful part of grpc-js's UNAVAILABLE details ("No connection established. Last error: ..."). */
function unavailableReason(details: string): string {
  const code = /\b(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN)\b/.exec(details)?.[1];
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code) return code;
  return details.replace(/\s*Resolution note:\s*$/, '') || 'unavailable';
}

type Duplex = grpc.ClientDuplexStream<Frame, Frame> | grpc.ServerDuplexStream<Frame, Frame>;

/**
 * A session stream with write batching: messages queued in one turn of the event loop go out as
 * one frame. Per-message overhead on grpc-js dominates small messages, so this is the hot path.
 */
export class SessionChannel<In, Out> {
  private queue: Out[] = [];
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly stream: Duplex,
    private readonly label: string,
    onMessage: (msg: In) => void,
    onClose: (err?: Error) => void,
  ) {
    stream.on('data', (frame: Frame) => {
      const msgs = unpackMessage<In[]>(frame.payload as Uint8Array);
      trace('transport', () => `${label} <- ${msgs.length} msgs`);
      for (const m of msgs) onMessage(m);
    });
    let ended = false;
    const finish = (err?: Error) => {
      if (ended) return;
      ended = true;
      this.closed = true;
      onClose(err);
    };
    stream.on('end', () => {
      // The peer is done: end our side too, so the call completes and neither process is held open.
      try {
        stream.end();
      } catch {
        /* already ended */
      }
      finish();
    });
    stream.on('error', (err: Error) => finish(err));
    stream.on('close', () => finish());
  }

  send(msg: Out): void {
    if (this.closed) return;
    this.queue.push(msg);
    if (!this.scheduled) {
      this.scheduled = true;
      // A microtask, not setImmediate: everything sent in one synchronous burst (a loop of
      // submissions, the handling of one incoming frame) still leaves as one frame, without
      // waiting for another turn of the event loop.
      queueMicrotask(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.closed || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    trace('transport', () => `${this.label} -> ${batch.length} msgs`);
    for (const payload of packFrames(batch)) this.stream.write({ payload });
  };

  /** Sends what is queued now, then closes the stream. */
  end(): void {
    this.flush();
    this.closed = true;
    try {
      this.stream.end();
    } catch {
      /* already closed */
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
