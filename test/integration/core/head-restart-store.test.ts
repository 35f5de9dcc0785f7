/**
 * Bad head stores: a head refuses to start on a store it cannot use, with a HeadStoreError that
 * names the store and says what is wrong (corrupt or unreadable file, a newer schema version, a
 * PostgreSQL server that refuses), both in-process and as the `head-main` process.
 */
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// Not on the package's public surface: a Head in this process over a store, from the compiled core layer the cluster runs.
// eslint-disable-next-line no-restricted-imports -- the head's internals are what this test drives
import { Head, HeadStoreError, ProcessStartError, spawnEntry } from '../../../dist/src/core/index.js';
import { connectTestPostgres, uniqueTable } from '../../harness/postgres.js';
import { NO_POSTGRES, skipBecause } from '../../harness/skip.js';

const scratch = mkdtempSync(join(tmpdir(), 'shoal-head-store-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function startError(store: string): Promise<unknown> {
  const dir = mkdtempSync(join(scratch, 'head-'));
  const head = new Head({ dir, port: 0, metricsPort: -1, store });
  try {
    await head.start();
  } catch (err) {
    return err;
  }
  await head.stop();
  return undefined;
}

describe('a head store that cannot be used', () => {
  it('a corrupt SQLite file: HeadStoreError naming the file', async () => {
    const file = join(scratch, 'corrupt.sqlite');
    writeFileSync(file, 'this is not a database, just text that fills the header page '.repeat(100));
    const err = await startError(file);
    expect(err).toBeInstanceOf(HeadStoreError);
    expect(err).toMatchObject({ code: 'HEAD_STORE', store: `SQLite file ${file}` });
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/not a readable SQLite database/);
  });

  it('an unreadable path (a folder): HeadStoreError naming it', async () => {
    const folder = join(scratch, 'a-folder');
    mkdirSync(folder);
    const err = await startError(folder);
    expect(err).toBeInstanceOf(HeadStoreError);
    expect((err as Error).message).toContain(folder);
    expect((err as Error).message).toMatch(/cannot open it/);
  });

  it('a SQLite store from a newer schema version: refused, naming both versions', async () => {
    const file = join(scratch, 'newer.sqlite');
    const db = new Database(file);
    db.exec(`CREATE TABLE head_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO head_meta VALUES ('schema_version', '7')`);
    db.close();
    const err = await startError(file);
    expect(err).toBeInstanceOf(HeadStoreError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/newer shoal \(schema version 7\); this shoal reads up to version 1/);
  });

  it('a PostgreSQL URL where nothing accepts connections: HeadStoreError naming the URL', async () => {
    const err = await startError('postgres://postgres:secret@127.0.0.1:1/test?schema=nope');
    expect(err).toBeInstanceOf(HeadStoreError);
    const message = (err as Error).message;
    expect(message).toContain('postgres://postgres:***@127.0.0.1:1/test');
    expect(message).not.toContain('secret');
    expect(message).toMatch(/refused the connection/);
  });

  it('a PostgreSQL store from a newer schema version: refused', async (ctx) => {
    const pg = await connectTestPostgres(); // throws under CI when PostgreSQL is unreachable
    if (!pg) return skipBecause(ctx, NO_POSTGRES);
    const schema = uniqueTable('shoal_head_newer');
    try {
      await pg.query(`CREATE SCHEMA "${schema}"`);
      await pg.query(`CREATE TABLE "${schema}".head_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      await pg.query(`INSERT INTO "${schema}".head_meta VALUES ('schema_version', '3')`);
      const err = await startError(`postgres://postgres@127.0.0.1:5432/test?schema=${schema}`);
      expect(err).toBeInstanceOf(HeadStoreError);
      expect((err as Error).message).toContain(`schema ${schema}`);
      expect((err as Error).message).toMatch(/newer shoal \(schema version 3\)/);
    } finally {
      await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pg.end();
    }
  });

  it('the head process exits at once with the store named on stderr', async () => {
    const dir = mkdtempSync(join(scratch, 'proc-'));
    const file = join(scratch, 'corrupt-for-process.sqlite');
    writeFileSync(file, 'x'.repeat(8192));
    const logFile = join(dir, 'logs', 'head.log');
    const err = await spawnEntry('head-main.js', { dir, port: 0, metricsPort: -1, store: file }, { attached: true, logFile }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProcessStartError);
    // The error quotes the process's last stderr line, so the cause is visible without opening the file.
    expect(String(err)).toMatch(/exited with code 1 before it was ready: .*head store SQLite file/);
    const stderr = readFileSync(logFile.replace(/\.log$/, '.err'), 'utf8');
    expect(stderr).toContain(`shoal head failed to start: head store SQLite file ${file}`);
    expect((err as ProcessStartError).stderr).toContain(`head store SQLite file ${file}`);
    expect(stderr).not.toMatch(/sonic boom|Node\.js v/); // exits cleanly once its log is flushed, no crash
  });

  it('a process that never says it is ready is killed after readyTimeoutMs', async () => {
    const dir = mkdtempSync(join(scratch, 'slow-'));
    const logFile = join(dir, 'logs', 'worker.log');
    // A worker whose head never answers (a port nothing listens on, a long reconnect budget) is not ready.
    const err = await spawnEntry('worker-main.js', { address: '127.0.0.1:9', token: 'x', dir, numCpus: 1, reconnectTimeoutMs: 60_000 }, { attached: true, logFile, readyTimeoutMs: 1500 }).then(
      (p) => {
        p.child.kill('SIGKILL');
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProcessStartError);
    expect((err as Error).message).toMatch(/^the shoal worker failed to start: (it was not ready after 1\.5 s|it exited with code \d+ before it was ready)/);
  });
});
