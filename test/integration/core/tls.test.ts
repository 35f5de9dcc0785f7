import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, put, shutdown } from 'shoal';
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
  beforeAll(async () => {
    await init({ numCpus: 2, tls });
  });
  afterAll(async () => {
    await shutdown();
  });

  it('runs tasks and moves large objects between processes over TLS', async () => {
    const xs = new Float64Array(500_000).fill(2); // 4 MB: travels through the object stores
    expect(await get(total.remote(put(xs)))).toBe(1_000_000);
    expect(await get(total.remote(new Float64Array([1, 2, 3])))).toBe(6);
  });
});
