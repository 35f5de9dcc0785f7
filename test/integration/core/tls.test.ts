/**
 * TLS with the user's certificates: tasks and large objects move between processes, and every
 * listening endpoint (the head, each node's object server) speaks only TLS — a client trusting the CA
 * completes a handshake for 127.0.0.1, and a plaintext HTTP/2 client gets no HTTP/2 back (the server
 * answers with a TLS alert, or closes).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterStatus, get, init, put, shutdown } from 'shoal';
import { total } from '../../fixtures/tls-tasks.js';

/** Makes a CA and a node certificate for localhost/127.0.0.1 with Debian's openssl. */
function makeCerts(dir: string): { certFile: string; keyFile: string; caFile: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=shoal-test-ca');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'node.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'node.crt', '-days', '2', '-extfile', 'ext.cnf');
  return { certFile: join(dir, 'node.crt'), keyFile: join(dir, 'node.key'), caFile: join(dir, 'ca.crt') };
}

describe('TLS with user certificates', () => {
  const tls = makeCerts(mkdtempSync(join(tmpdir(), 'shoal-tls-')));
  let headAddress = '';
  beforeAll(async () => {
    headAddress = (await init({ numCpus: 2, tls })).address;
  });
  afterAll(async () => {
    await shutdown();
  });

  it('runs tasks and moves large objects between processes over TLS', async () => {
    const xs = new Float64Array(500_000).fill(2); // 4 MB: travels through the object stores
    expect(await get(total.remote(put(xs)))).toBe(1_000_000);
    expect(await get(total.remote(new Float64Array([1, 2, 3])))).toBe(6);
  });

  /** Host and port of an address `host:port`. */
  const hostPort = (address: string): { host: string; port: number } => {
    const i = address.lastIndexOf(':');
    return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
  };

  /** A TLS handshake trusting only the test CA: resolves with whether the peer was authorized. */
  const handshake = (address: string): Promise<{ authorized: boolean; protocol: string | null }> =>
    new Promise((resolve, reject) => {
      const { host, port } = hostPort(address);
      const s = tlsConnect({ host, port, ca: readFileSync(tls.caFile), servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
        resolve({ authorized: s.authorized, protocol: s.getProtocol() });
        s.destroy();
      });
      s.on('error', reject);
    });

  /** Sends the HTTP/2 client preface and an empty SETTINGS frame in plaintext; the bytes until the server closes. */
  const plaintextReply = (address: string): Promise<Buffer> =>
    new Promise((resolve) => {
      const { host, port } = hostPort(address);
      const chunks: Buffer[] = [];
      const s = netConnect({ host, port }, () => {
        s.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
      });
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('error', () => undefined);
      s.on('close', () => resolve(Buffer.concat(chunks)));
    });

  it('the head and every object server speak only TLS: a handshake with the CA works, plaintext HTTP/2 gets no HTTP/2 back', async () => {
    const nodes = (await clusterStatus()).nodes.filter((n) => n.alive);
    expect(nodes.length).toBeGreaterThan(0);
    for (const address of [headAddress, ...nodes.map((n) => n.address)]) {
      const h = await handshake(address);
      expect(h.authorized, address).toBe(true);
      expect(h.protocol, address).toMatch(/^TLSv1\.[23]$/);
      const reply = await plaintextReply(address);
      // An HTTP/2 server answers the preface with a SETTINGS frame (type 4 in byte 3); a TLS server
      // with an alert record (content type 21 = 0x15) or nothing.
      if (reply.length > 0) expect(reply[0], `${address} answered plaintext with ${reply.subarray(0, 16).toString('hex')}`).toBe(0x15);
      expect(reply.length >= 9 && reply[3] === 4, `${address} answered plaintext HTTP/2 with a SETTINGS frame`).toBe(false);
    }
  });
});
