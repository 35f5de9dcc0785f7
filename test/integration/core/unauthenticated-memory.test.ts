/**
 * Memory before authentication: a caller without the token must not make the head buffer what it
 * sends. A raw HTTP/2 client stands in for the attacker: it opens `PutBundle` (and a Session) with
 * no token and declares a 512 MiB message, then streams it from one reused 1 MiB buffer, so the
 * client itself stays small. The head refuses each call, and its peak RSS (VmHWM) stays bounded.
 * An authenticated bundle larger than any one gRPC message still uploads (chunked).
 */
import { createHash } from 'node:crypto';
import { connect, constants } from 'node:http2';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../../harness/test-cluster.js';
// Not on the package's public surface: the head client the drivers upload bundles with.
// eslint-disable-next-line no-restricted-imports -- the bundle upload path is what this test drives
import { HeadClient } from '../../../dist/src/core/index.js';

const MiB = 2 ** 20;

/** Peak resident memory of a process, bytes (Linux /proc). */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * Sends one gRPC request on `path` with `headers` whose single message declares `declared` bytes,
 * streaming zeros until the server ends the call. Returns the grpc-status it answered and how much
 * was sent before it did.
 */
function floodCall(address: string, path: string, declared: number, headers: Record<string, string> = {}): Promise<{ status: number | undefined; sent: number }> {
  return new Promise((resolve) => {
    const session = connect(`http://${address}`);
    session.on('error', () => undefined);
    const req = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: path,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    let status: number | undefined;
    let sent = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      session.close();
      session.destroy();
      resolve({ status, sent });
    };
    // The server's answer ends the attack: what it did not read by then it never buffers.
    const pick = (h: Record<string, unknown>): void => {
      const s = h['grpc-status'];
      if (s === undefined) return;
      status = Number(s);
      finish();
    };
    req.on('response', pick);
    req.on('trailers', pick);
    req.on('error', () => finish());
    req.on('close', finish);
    req.resume();
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(declared, 1);
    const chunk = Buffer.alloc(MiB);
    const pump = (): void => {
      while (!done && !req.destroyed && sent < declared) {
        const n = Math.min(chunk.length, declared - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      if (!done && !req.destroyed) req.end();
    };
    req.write(prefix);
    pump();
  });
}

describe('calls without the token', () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await TestCluster.start({ numWorkers: 1, numCpus: 1 });
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it('four 512 MiB PutBundle calls and a 512 MiB Session frame are refused without the head buffering them', async () => {
    const pid = tc.headProcess.child.pid!;
    const before = peakRss(pid);
    const calls = await Promise.all([
      ...[1, 2, 3, 4].map(() => floodCall(tc.address, '/shoal.v1.Head/PutBundle', 512 * MiB)),
      floodCall(tc.address, '/shoal.v1.Head/Session', 512 * MiB),
      floodCall(tc.address, '/shoal.v1.Head/Control', 512 * MiB, { authorization: 'Bearer wrong-token' }),
    ]);
    for (const c of calls) {
      expect([16 /* UNAUTHENTICATED */, 8 /* RESOURCE_EXHAUSTED */]).toContain(c.status);
    }
    // Generous: the refusal may come after some MiB are in flight, never after the whole body.
    expect(peakRss(pid) - before).toBeLessThan(256 * MiB);
    // The head still serves its clients.
    const head = new HeadClient({ address: tc.address, token: tc.token });
    try {
      await expect(head.control('ping')).resolves.toMatchObject({ address: tc.address });
    } finally {
      head.close();
    }
  }, 120_000);

  it('an authenticated bundle of 80 MiB (above the per-message limit) uploads and reads back whole', async () => {
    const code = Buffer.alloc(80 * MiB, 'x');
    const hash = createHash('sha256').update(code).digest('hex').slice(0, 32);
    const head = new HeadClient({ address: tc.address, token: tc.token });
    try {
      await head.uploadBundle(hash, code);
      const back = await head.downloadBundle(hash);
      expect(Buffer.from(back).equals(code)).toBe(true);
    } finally {
      head.close();
    }
  }, 120_000);
});
