/**
 * The cluster token guards every door: the head's gRPC services (session, bundles, control), the
 * workers' object servers, and the head's HTTP metrics. A raw gRPC client stands in for an
 * attacker who knows the protocol but not the token.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { pack, unpack } from 'msgpackr';
import { readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, ConnectionError, get, init, shutdown } from 'shoal';
import { TestCluster } from '../../harness/test-cluster.js';
import { bigResult } from '../../fixtures/core/index.js';

const PROTO = fileURLToPath(new URL('../../../proto/shoal.proto', import.meta.url));

type AnyClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
let tc: TestCluster;
let proto: { shoal: { v1: { Head: grpc.ServiceClientConstructor; ObjectTransfer: grpc.ServiceClientConstructor } } };

beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
  proto = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { longs: String, enums: String, defaults: true, oneofs: true })) as unknown as typeof proto;
});
afterAll(async () => {
  await tc?.stop();
});

/** Metadata for a token: undefined sends none, a string sends `authorization: Bearer <token>`. */
function auth(token: string | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  return md;
}

function headClient(): AnyClient {
  return new proto.shoal.v1.Head(tc.address, grpc.credentials.createInsecure()) as unknown as AnyClient;
}

function unary<T>(client: AnyClient, method: string, request: unknown, md: grpc.Metadata): Promise<{ err: grpc.ServiceError | null; reply?: T }> {
  return new Promise((resolve) => {
    client[method]!.call(client, request, md, { deadline: Date.now() + 5_000 }, (err: grpc.ServiceError | null, reply: T) => resolve({ err, reply }));
  });
}

/** Opens a Session, sends hello (and optionally a submit), returns how the stream ended. */
function session(md: grpc.Metadata, extra: unknown[] = []): Promise<{ code: number | undefined; messages: unknown[] }> {
  const client = headClient();
  return new Promise((resolve) => {
    const messages: unknown[] = [];
    const call = client.Session!.call(client, md) as grpc.ClientDuplexStream<{ payload: Uint8Array }, { payload: Uint8Array }>;
    const done = (code: number | undefined): void => {
      client.close();
      resolve({ code, messages });
    };
    call.on('data', (f: { payload: Uint8Array }) => messages.push(...(unpack(f.payload) as unknown[])));
    call.on('error', (err: grpc.ServiceError) => done(err.code));
    call.on('end', () => done(undefined));
    const hello = { t: 'hello', role: 'driver', version: '0.1.0', protocol: 1, pid: process.pid, hostname: 'attacker' };
    call.write({ payload: pack([hello, ...extra]) });
    setTimeout(() => {
      call.cancel();
    }, 3_000);
  });
}

const BAD_TOKENS: Array<[string, string | undefined]> = [['a missing token', undefined], ['a wrong token', 'wrong-token']];

describe.each(BAD_TOKENS)('a gRPC client with %s', (_label, token) => {
  it('cannot open a session', async () => {
    const r = await session(auth(token));
    expect(r.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(r.messages).toEqual([]); // no welcome
  });

  it('cannot submit a task', async () => {
    const before = (await tc.status()) as unknown as { counters: { tasksSubmitted: number } };
    const spec = {
      taskId: 'tdeadbeef00000001', jobId: 'j', kind: 'task', name: 'evil', args: new Uint8Array(), deps: [], nested: [],
      resources: { CPU: 1 }, maxRetries: 0, strategy: 'DEFAULT', fn: { bundle: '0'.repeat(32), name: 'evil', definedAt: 'x' },
    };
    const r = await session(auth(token), [{ t: 'submit', specs: [spec] }]);
    expect(r.code).toBe(grpc.status.UNAUTHENTICATED);
    const after = (await tc.status()) as unknown as { counters: { tasksSubmitted: number } };
    expect(after.counters.tasksSubmitted).toBe(before.counters.tasksSubmitted);
  });

  it('cannot fetch, check or upload a code bundle', async () => {
    await get(bigResult.remote()); // makes sure a bundle exists
    const hash = readdirSync(join(tc.headInfo.dir, 'bundles')).find((f) => /^[0-9a-f]{32}\.mjs$/.test(f))!.slice(0, 32);
    const client = headClient();
    try {
      const good = await unary<{ code: Uint8Array }>(client, 'GetBundle', { hash }, auth(tc.token));
      expect(good.err).toBeNull(); // the control: the right token works
      expect(good.reply!.code.byteLength).toBeGreaterThan(0);
      for (const [method, req] of [['GetBundle', { hash }], ['HasBundle', { hash }], ['PutBundle', { hash, code: Buffer.from('x') }]] as const) {
        const bad = await unary(client, method, req, auth(token));
        expect(bad.err?.code, method).toBe(grpc.status.UNAUTHENTICATED);
      }
    } finally {
      client.close();
    }
  });

  it('cannot make control calls', async () => {
    const client = headClient();
    try {
      const bad = await unary(client, 'Control', { method: 'status', body: pack(null) }, auth(token));
      expect(bad.err?.code).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });

  it("cannot fetch an object from a worker's ObjectTransfer", async () => {
    const ref = bigResult.remote(); // 1 MiB: stays in the worker's store
    await get(ref);
    const nodeAddress = (await tc.status()).nodes[0]!.address;
    const client = new proto.shoal.v1.ObjectTransfer(nodeAddress, grpc.credentials.createInsecure()) as unknown as AnyClient;
    const fetch = (md: grpc.Metadata): Promise<{ code: number | undefined; bytes: number }> =>
      new Promise((resolve) => {
        let bytes = 0;
        const call = client.Fetch!.call(client, { objectId: ref.id }, md) as grpc.ClientReadableStream<{ data: Uint8Array }>;
        call.on('data', (c: { data: Uint8Array }) => (bytes += c.data.byteLength));
        call.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, bytes }));
        call.on('end', () => resolve({ code: undefined, bytes }));
      });
    try {
      const good = await fetch(auth(tc.token)); // the control: the right token works
      expect(good.code).toBeUndefined();
      expect(good.bytes).toBeGreaterThan(1 << 20); // the array plus the codec's header
      expect(await fetch(auth(token))).toEqual({ code: grpc.status.UNAUTHENTICATED, bytes: 0 });
    } finally {
      client.close();
    }
  });
});

describe('metrics over HTTP', () => {
  const url = (): string => `http://127.0.0.1:${tc.headInfo.metricsPort}/metrics`;

  it('answers 401 without the token, and with a wrong one', async () => {
    expect((await fetch(url())).status).toBe(401);
    expect((await fetch(url(), { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(url(), { headers: { authorization: tc.token } })).status).toBe(401); // no "Bearer "
  });

  it('serves Prometheus text with Authorization: Bearer <token>', async () => {
    const res = await fetch(url(), { headers: { authorization: `Bearer ${tc.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^# TYPE shoal_tasks_submitted_total counter$/m);
    expect(text).toMatch(/^shoal_tasks_submitted_total \d+$/m);
    expect(text).toMatch(/^shoal_nodes_alive 1$/m);
  });
});

describe('the token file', () => {
  it('has mode 0600', () => {
    expect(statSync(tc.headInfo.tokenFile).mode & 0o777).toBe(0o600);
  });
});

describe('init() with bad credentials or a bad address', () => {
  let http: Server;
  beforeAll(async () => {
    await shutdown(); // this process's driver: init() below needs it disconnected
    http = createServer((_req, res) => res.end('hello, I am not shoal\n'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  });
  afterAll(() => {
    http?.close();
  });

  it('a wrong token → AuthenticationError', async () => {
    const err = await init({ address: tc.address, token: 'wrong' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED', address: tc.address });
  });

  it('a plain HTTP server → ConnectionError saying it is not a shoal head or unreachable', async () => {
    const address = `127.0.0.1:${(http.address() as { port: number }).port}`;
    // (init() must give up on its own: if it hung, the test would time out.)
    const err = await init({ address, token: 'whatever' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ code: 'CONNECTION', address });
    expect((err as Error).message).toMatch(/not a shoal head|cannot reach a shoal head/);
  });

  it('a closed port → ConnectionError', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const err = await init({ address: `127.0.0.1:${port}`, token: 'whatever' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
  });

  it('the right token still connects afterwards', async () => {
    await init({ address: tc.address, token: tc.token });
    expect((await get(bigResult.remote())).byteLength).toBe(1 << 20);
  });
});
