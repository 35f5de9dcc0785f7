/**
 * The exposure log's crash guarantee: a process holding a ParquetExposureLog killed with SIGKILL
 * loses only the records it had not flushed — every flushed batch is in the dataset, whole, and
 * the dataset reads (no truncated part file; parts are renamed into place once written).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';

const WRITER = resolve('test/fixtures/serve/exposure-writer.mjs');

it('SIGKILL loses only the unflushed records; the flushed batches read back whole', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'shoal-exposure-crash-')), 'exposures');
  const child = spawn(process.execPath, [WRITER, dir, '100', '250', '37'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
  const line = await new Promise<string>((res, rej) => {
    createInterface({ input: child.stdout! }).once('line', res);
    child.once('exit', (code) => rej(new Error(`the writer exited (code ${code}) before it reported`)));
  });
  const reported = JSON.parse(line) as { written: number; pending: number };
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  // 250 appended in batches of 100: two full batches flushed as they filled, the last 50 by flush().
  expect(reported).toEqual({ written: 250, pending: 37 });
  expect(readdirSync(dir).every((f) => f.endsWith('.parquet'))).toBe(true);
  // Read by DuckDB (an independent reader): every part file whole (a truncated one would throw here).
  const duck = await DuckDBInstance.create(':memory:');
  const conn = await duck.connect();
  let rows: Array<[string, string[]]>;
  try {
    const res = await conn.runAndReadAll(`SELECT request_id, items FROM read_parquet('${join(dir, '*.parquet')}') ORDER BY CAST(substr(request_id, 5) AS INTEGER)`);
    rows = res.getRowsJS().map((r) => [String(r[0]), (r[1] as unknown[]).map(String)]);
  } finally {
    conn.closeSync();
    duck.closeSync();
  }
  expect(rows.map((r) => r[0])).toEqual(Array.from({ length: 250 }, (_, i) => `req-${i}`));
  expect(rows[249]![1]).toEqual(['l249', 'l250']);
}, 60_000);
