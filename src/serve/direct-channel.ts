/**
 * The ingress's direct line to a replica: a TCP connection from the serving process straight to the
 * replica's actor thread, so a request costs one round trip instead of the actor-call path's three
 * process hops (ingress → head → worker → actor thread → worker → ingress, measured in the serve
 * bench's `hops` group). Ray Serve gets the same from Ray's direct actor calls.
 *
 * The replica opens the channel when the controller asks it to (`DIRECT_METHOD`, an ordinary actor
 * call, so only a cluster member can) and accepts only connections whose first frame is the secret
 * the controller passed in that call. It binds the worker's interface (`SHOAL_THREAD_BIND`) and is
 * not offered when the cluster runs TLS: calls then stay on the actor path. Frames are a 4-byte
 * little-endian length and shoal-serialized values: `[id, method, arg]` in, `[id, 0, value]` or
 * `[id, 1, WireError]` out. When the connection closes (the replica's thread or node died, or it
 * was stopped), calls in flight on it fail with ActorDiedError, as they would on the actor path.
 */
import { timingSafeEqual } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { ActorDiedError, deserialize, errorFromWire, serialize, ShoalError, TaskError, type WireError } from '../core/index.js';
import { invokeCounted, INVOKE_METHOD } from './replica-load.js';
import type { ServeRequest } from './serve-types.js';

/** The method `deployment()` adds to every deployment class: opens (once) the replica's direct channel. */
export const DIRECT_METHOD = '__shoalDirect';

/** Largest frame either side accepts (a request body is limited well below this by the ingress). */
export const DIRECT_FRAME_MAX_BYTES = 256 << 20;

export interface DirectAddress {
  host: string;
  port: number;
}

/** Splits a byte stream into length-prefixed frames. */
class FrameReader {
  private chunks: Buffer[] = [];
  private have = 0;
  constructor(private readonly onFrame: (frame: Buffer) => void, private readonly onTooLarge: (n: number) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.have += chunk.length;
    while (this.have >= 4) {
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : (this.chunks = [Buffer.concat(this.chunks)])[0]!;
      const n = head.readUInt32LE(0);
      if (n > DIRECT_FRAME_MAX_BYTES) {
        this.onTooLarge(n);
        return;
      }
      if (this.have < 4 + n) return;
      const all = this.chunks.length === 1 ? head : Buffer.concat(this.chunks);
      this.onFrame(all.subarray(4, 4 + n));
      const rest = all.subarray(4 + n);
      this.chunks = rest.length ? [rest] : [];
      this.have = rest.length;
    }
  }
}

/** Writes frames, coalescing the ones written in one turn of the event loop into one write. */
class FrameWriter {
  private corked = false;
  constructor(private readonly socket: Socket) {}

  write(payload: Uint8Array): void {
    if (this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32LE(payload.byteLength, 0);
    this.socket.write(len);
    this.socket.write(payload);
  }
}

/** As the worker reports a failed call: shoal's errors keep their class, anything else becomes a TaskError. */
export function wireOf(err: unknown, name: string, requestId: string): WireError {
  if (err instanceof ShoalError) return err.toWire();
  const e = err instanceof Error ? err : new Error(`a non-Error value was thrown: ${String(err)}`);
  const code = typeof (e as { code?: unknown }).code === 'string' ? (e as unknown as { code: string }).code : undefined;
  return new TaskError(name, requestId, e.name || 'Error', e.message, e.stack ?? '(no stack)', code).toWire();
}

// ---------------- replica side (runs in the replica's actor thread) ----------------

interface ReplicaServer {
  address: Promise<DirectAddress | null>;
  secrets: Buffer[];
}

const servers = new WeakMap<object, ReplicaServer>();

/**
 * Opens `instance`'s direct channel (once per replica; a later call adds its secret) and resolves
 * to the address the ingress connects to, or null when the cluster runs TLS (no direct channel).
 */
export function openDirectServer(instance: Record<string, unknown>, className: string, secret: string): Promise<DirectAddress | null> {
  if (typeof secret !== 'string' || secret.length < 16) throw new TypeError(`${DIRECT_METHOD} takes a secret of at least 16 characters`);
  let s = servers.get(instance);
  if (!s) {
    s = { address: Promise.resolve(null), secrets: [] };
    servers.set(instance, s);
    if (!process.env.SHOAL_THREAD_TLS) s.address = listen(instance, className, s);
  }
  s.secrets.push(Buffer.from(secret));
  return s.address;
}

function listen(instance: Record<string, unknown>, className: string, s: ReplicaServer): Promise<DirectAddress> {
  const bindHost = process.env.SHOAL_THREAD_BIND || '127.0.0.1';
  const advertise = process.env.SHOAL_THREAD_ADVERTISE || (bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost);
  const server: Server = createServer({ noDelay: true }, (socket) => serveConnection(instance, className, s, socket));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, bindHost, () => {
      const a = server.address();
      if (a === null || typeof a === 'string') reject(new Error('the direct channel has no TCP address'));
      else resolve({ host: advertise, port: a.port });
    });
  });
}

function serveConnection(instance: Record<string, unknown>, className: string, s: ReplicaServer, socket: Socket): void {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  const out = new FrameWriter(socket);
  let authed = false;
  const reader = new FrameReader((frame) => {
    if (!authed) {
      authed = s.secrets.some((k) => k.length === frame.length && timingSafeEqual(k, frame));
      if (!authed) socket.destroy();
      return;
    }
    let id = -1;
    let method = '';
    let arg: unknown;
    try {
      [id, method, arg] = deserialize<[number, string, unknown]>(frame);
    } catch {
      socket.destroy();
      return;
    }
    void run(instance, className, method, arg).then((o) => {
      out.write('e' in o ? serialize([id, 1, o.e]) : safeSerialize(id, o.v, className, method, arg));
    });
  }, () => socket.destroy());
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
}

/** An answer that cannot cross the wire fails its own request, not the connection. */
function safeSerialize(id: number, value: unknown, className: string, method: string, arg: unknown): Uint8Array {
  try {
    return serialize([id, 0, value], { label: `${className}.${method} result` });
  } catch (err) {
    return serialize([id, 1, wireOf(err, `${className}.${method}`, requestIdOf(arg))]);
  }
}

function requestIdOf(arg: unknown): string {
  const id = typeof arg === 'object' && arg !== null ? (arg as { requestId?: unknown }).requestId : undefined;
  return typeof id === 'string' ? id : 'batch';
}

async function run(instance: Record<string, unknown>, className: string, method: string, arg: unknown): Promise<{ v: unknown } | { e: WireError }> {
  try {
    // A handle's call (deployment-handle.ts): `[method, args]`, counted as handle load.
    if (method === INVOKE_METHOD) {
      const [m, args] = arg as [string, unknown[]];
      return { v: await invokeCounted(instance, className, m, args) };
    }
    const fn = instance[method];
    if (typeof fn !== 'function' || method === 'constructor' || method.startsWith('__shoal')) {
      throw new TypeError(`deployment class ${className} has no ${method}(${method === 'call' ? 'request' : '...'}) method`);
    }
    return { v: await (fn as (a: unknown) => unknown).call(instance, arg as ServeRequest) };
  } catch (err) {
    return { e: wireOf(err, `${className}.${method}`, requestIdOf(arg)) };
  }
}

// ---------------- ingress side ----------------

interface InFlight {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** The ingress's end of a replica's direct channel. */
export class DirectChannel {
  private readonly inflight = new Map<number, InFlight>();
  private seq = 0;
  /** Calls sent over this channel. */
  calls = 0;
  private closedWith: Error | undefined;
  private readonly out: FrameWriter;

  private constructor(private readonly socket: Socket, readonly actorId: string, readonly replicaName: string) {
    this.out = new FrameWriter(socket);
    const reader = new FrameReader((frame) => this.onFrame(frame), (n) => socket.destroy(new Error(`a frame of ${n} bytes is over the ${DIRECT_FRAME_MAX_BYTES}-byte limit`)));
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', (err) => (this.closedWith ??= err));
    socket.on('close', () => this.failAll());
  }

  /** Connects to a replica's channel and presents the secret; resolves once connected. */
  static connect(address: DirectAddress, secret: string, actorId: string, replicaName: string, timeoutMs = 10_000): Promise<DirectChannel> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: address.host, port: address.port, noDelay: true });
      const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        const ch = new DirectChannel(socket, actorId, replicaName);
        ch.out.write(Buffer.from(secret));
        resolve(ch);
      });
    });
  }

  /** True until the connection closed. */
  get open(): boolean {
    return !this.socket.destroyed && this.closedWith === undefined;
  }

  /** Calls `method(arg)` on the replica. */
  invoke(method: string, arg: unknown): Promise<unknown> {
    if (!this.open) return Promise.reject(this.deathError());
    const id = ++this.seq;
    this.calls++;
    let payload: Uint8Array;
    try {
      payload = serialize([id, method, arg], { label: 'arguments' });
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.inflight.set(id, { resolve, reject });
      this.out.write(payload);
    });
  }

  /** Closes the connection; calls still in flight fail with ActorDiedError. */
  close(): void {
    this.closedWith ??= new Error('closed by the ingress');
    this.socket.destroy();
  }

  private onFrame(frame: Buffer): void {
    let msg: [number, 0 | 1, unknown];
    try {
      msg = deserialize(frame);
    } catch (err) {
      this.socket.destroy(err as Error);
      return;
    }
    const [id, failed, v] = msg;
    const f = this.inflight.get(id);
    if (!f) return;
    this.inflight.delete(id);
    if (failed) f.reject(errorFromWire(v as WireError));
    else f.resolve(v);
  }

  private deathError(): ActorDiedError {
    const why = this.closedWith ? `: ${this.closedWith.message}` : '';
    return new ActorDiedError(this.actorId, this.replicaName, `its direct serving channel closed${why}`);
  }

  private failAll(): void {
    this.closedWith ??= new Error('the replica closed the connection');
    const err = this.deathError();
    for (const f of this.inflight.values()) f.reject(err);
    this.inflight.clear();
  }
}
