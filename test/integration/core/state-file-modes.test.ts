/**
 * Nothing a running cluster writes is readable by another local user: every folder under the
 * cluster's folder is 0700 and every file 0600, whatever the umask (the cluster here starts under
 * umask 000, the worst case), and the head's store holds a hash of the token, never the token (a
 * local user who could read it would hold a key that runs code on the cluster).
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, put } from 'shoal';
import { TestCluster } from '../../harness/test-cluster.js';
import { filled, square, total } from '../../fixtures/core/index.js';

/** Every path under `dir` (itself included) with its permission bits. */
function walk(dir: string, out: Array<{ path: string; mode: number; isDir: boolean }> = []): typeof out {
  const st = lstatSync(dir);
  out.push({ path: dir, mode: st.mode & 0o777, isDir: st.isDirectory() });
  if (!st.isDirectory()) return out;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const s = lstatSync(path);
    if (s.isSymbolicLink()) continue; // a bundle's node_modules link to shoal itself
    if (s.isDirectory()) walk(path, out);
    else out.push({ path, mode: s.mode & 0o777, isDir: false });
  }
  return out;
}

const octal = (n: number): string => `0${n.toString(8)}`;

describe('files and folders a running cluster writes', () => {
  let tc: TestCluster;
  let oldUmask = 0;
  beforeAll(async () => {
    oldUmask = process.umask(0);
    try {
      // A small object store, so a large object spills to disk too.
      tc = await TestCluster.start({ numWorkers: 1, numCpus: 2, objectStoreBytes: 8 * 2 ** 20 });
    } finally {
      process.umask(oldUmask);
    }
  });
  afterAll(async () => {
    await tc?.stop();
  });

  it('are 0700 (folders) and 0600 (files) under umask 000, and the head store holds no token', async () => {
    // Work that writes: a code bundle, task logs, objects spilled past the store's cap.
    expect(await get(square.remote(7), { timeoutMs: 20_000 })).toBe(49);
    const refs = [1, 2, 3].map((v) => filled.remote(2 ** 20, v)); // 8 MiB each
    expect(await get(refs.map((r) => total.remote(r)), { timeoutMs: 30_000 })).toEqual([2 ** 20, 2 * 2 ** 20, 3 * 2 ** 20]);
    expect(await get(put('a value'), { timeoutMs: 10_000 })).toBe('a value');

    const entries = walk(tc.cluster.dir);
    const names = entries.map((e) => e.path.slice(tc.cluster.dir.length));
    // The test looks where it means to: the store, its WAL, the token, bundles, logs.
    expect(names).toEqual(expect.arrayContaining(['/head.sqlite', '/token', '/logs/head.log', '/bundles']));
    const open = entries.filter((e) => (e.isDir ? e.mode !== 0o700 : e.mode & 0o077));
    expect(open.map((e) => `${e.path} ${octal(e.mode)}`)).toEqual([]);

    const token = tc.token;
    for (const file of ['head.sqlite', 'head.sqlite-wal']) {
      const path = join(tc.cluster.dir, file);
      if (existsSync(path)) expect(readFileSync(path).includes(Buffer.from(token)), `${file} holds the cluster token`).toBe(false);
    }
  });
});
