/**
 * Reference implementations that metrics are compared with, all running in the bench process:
 * a raw grpc-js unary echo on loopback, a worker_threads echo thread, and memcpy.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Worker } from 'node:worker_threads';
import { fixtureJs, fixtureSrc } from './paths.js';
import { now } from './timing.js';

interface EchoMessage {
  data: Uint8Array;
}
type EchoClient = grpc.Client & {
  Echo(req: EchoMessage, cb: (err: grpc.ServiceError | null, res?: EchoMessage) => void): grpc.ClientUnaryCall;
};

/** A grpc-js server and client of bench/fixtures/echo.proto, both in this process, on 127.0.0.1. */
export class GrpcEcho {
  private constructor(
    private readonly server: grpc.Server,
    private readonly client: EchoClient,
    private readonly payload: Uint8Array,
  ) {}

  static async start(payloadBytes = 64): Promise<GrpcEcho> {
    const def = protoLoader.loadSync(fixtureSrc('echo.proto'), { longs: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      shoalbench: { Echo: grpc.ServiceClientConstructor };
    };
    const server = new grpc.Server();
    server.addService(pkg.shoalbench.Echo.service, {
      Echo: (call: grpc.ServerUnaryCall<EchoMessage, EchoMessage>, cb: grpc.sendUnaryData<EchoMessage>) => cb(null, call.request),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const client = new pkg.shoalbench.Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
    return new GrpcEcho(server, client, new Uint8Array(payloadBytes).fill(7));
  }

  /** One unary round trip. */
  call(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.Echo({ data: this.payload }, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.client.close();
    this.server.forceShutdown();
  }
}

/** A worker thread that posts every message back (FIFO, so replies match calls in order). */
export class EchoThread {
  private readonly worker = new Worker(fixtureJs('echo-thread'));
  private readonly waiting: Array<() => void> = [];

  constructor() {
    this.worker.on('message', () => this.waiting.shift()?.());
    this.worker.unref();
  }

  /** One postMessage round trip. */
  call(msg: unknown = null): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.worker.postMessage(msg);
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Times `dst.set(src)`: one untimed copy (faults pages in), then `reps` timed copies; returns each one's ms. */
export function memcpyTimes(src: Float64Array, dst: Float64Array, reps: number): number[] {
  dst.set(src);
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    dst.set(src);
    out.push(now() - t0);
  }
  return out;
}

/**
 * Times copying `src` into memory allocated just before (first touch of every page), the cost any
 * receiver of a new object pays. On hosts where a page fault is expensive (shadow paging in some
 * sandboxed VMs, memory given back to the hypervisor) this runs far below `memcpyTimes`.
 */
export function freshCopyTimes(src: Float64Array, reps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    const dst = new Float64Array(new SharedArrayBuffer(src.byteLength));
    dst.set(src);
    out.push(now() - t0);
  }
  return out;
}
