/**
 * The rental job's Parquet tables are replaced so that readers always find a complete version, and a
 * run killed at the swap is recovered by the next one (issue 13): versioned folders and one symlink
 * renamed over. Each writer is a real driver process, killed by SIGKILL at the named point.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { range, readParquet } from 'shoal/data';
import { TestCluster } from '../../harness/test-cluster.js';

let tc: TestCluster;
let dir: string;
const FIXTURE = fileURLToPath(new URL('../../fixtures/rental/replace-table.mjs', import.meta.url));

beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2 });
  dir = await mkdtemp(join(tmpdir(), 'shoal-rental-swap-'));
});

afterAll(async () => {
  await tc?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function writer(table: string, rows: number, killAt?: 'swap' | 'migrate'): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const env = { ...process.env, SHOAL_ADDRESS: tc.address, SHOAL_TOKEN: tc.token, ...(killAt ? { SHOAL_RENTAL_KILL_AT: killAt } : {}) };
  const child = spawn(process.execPath, [FIXTURE, dir, table, String(rows)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

const count = (table: string): Promise<number> => readParquet(join(dir, table)).count();

it('a run killed at the swap leaves the previous version readable; the next run cleans up and publishes', async () => {
  const first = await writer('recs', 10);
  expect(first.code, first.stderr).toBe(0);
  expect(lstatSync(join(dir, 'recs')).isSymbolicLink()).toBe(true);
  expect(await count('recs')).toBe(10);

  const killed = await writer('recs', 20, 'swap');
  expect(killed.signal).toBe('SIGKILL');
  // Readers still find the complete previous version.
  expect(await count('recs')).toBe(10);
  expect((await readdir(dir)).some((n) => n.startsWith('recs.link-'))).toBe(true);

  const next = await writer('recs', 30);
  expect(next.code, next.stderr).toBe(0);
  expect(next.stdout).toMatch(/recovered recs: removed recs\.link-\d+/);
  expect(next.stdout).toMatch(/recovered recs: removed unpublished recs\.v\d+-\d+/);
  expect(await count('recs')).toBe(30);
  // Left: the pointer, the current version and the one it replaced — nothing of the killed run.
  const names = (await readdir(dir)).filter((n) => n.startsWith('recs') || n.startsWith('.recs'));
  expect(names.filter((n) => n.startsWith('recs.v'))).toHaveLength(2);
  expect(names.filter((n) => !n.startsWith('recs.v'))).toEqual(['recs']);
});

it('a table from before versioning (a plain folder) is migrated; a run killed in that window is recovered by the next', async () => {
  // A plain folder, as the two-rename swap wrote it.
  await range(7).writeParquet(join(dir, 'legacy'));
  const killed = await writer('legacy', 12, 'migrate');
  expect(killed.signal).toBe('SIGKILL');
  expect(existsSync(join(dir, 'legacy'))).toBe(false);
  const next = await writer('legacy', 15);
  expect(next.code, next.stderr).toBe(0);
  expect(next.stdout).toMatch(/recovered legacy: re-pointed legacy at legacy\.v\d+-\d+/);
  expect(await count('legacy')).toBe(15);
});

it('the old two-rename swap killed between its renames (only legacy.old-* left) is restored by the next run', async () => {
  await range(4).writeParquet(join(dir, 'older'));
  await mkdir(join(dir, 'older.staging-4194305-abc'));
  await rename(join(dir, 'older'), join(dir, 'older.old-4194305-abc'));
  const next = await writer('older', 6);
  expect(next.code, next.stderr).toBe(0);
  expect(next.stdout).toContain('recovered older: restored older from older.old-4194305-abc');
  expect(next.stdout).toContain('recovered older: removed older.staging-4194305-abc');
  expect(await count('older')).toBe(6);
  expect((await readdir(dir)).filter((n) => n.startsWith('older.') && !n.startsWith('older.v'))).toEqual([]);
});
