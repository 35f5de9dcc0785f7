/**
 * Connecting with retries: transient failures (nothing listening) are retried with backoff and then
 * reported with the attempt count; refused credentials fail at once; passwords never reach messages.
 */
import { describe, expect, it } from 'vitest';
import { PostgresError } from '../../../../src/data/index.js';
import { connectPostgres, isTransientPgError, redactUrl } from '../../../../src/data/io/pg-connect.js';
import { connectTestPostgres } from '../../../harness/postgres.js';

const probe = await connectTestPostgres();
await probe?.end();

describe('connectPostgres', () => {
  it('retries an unreachable server with growing delays, then names the URL and the attempts', async () => {
    const err = await connectPostgres('postgres://u:secret@127.0.0.1:1/db', { attempts: 3, initialDelayMs: 40 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresError);
    expect((err as Error).message).toMatch(/^cannot connect to PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db after 3 attempts: .*ECONNREFUSED/);
    expect((err as Error).message).not.toContain('secret');
  });

  it.skipIf(probe === undefined)('does not retry refused credentials', async () => {
    const role = `shoal_no_such_role_${process.pid}`;
    const err = await connectPostgres(`postgres://${role}@127.0.0.1:5432/test`, { attempts: 5, initialDelayMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot connect to PostgreSQL at .*: role "${role}" does not exist`));
    expect((err as Error).message).not.toMatch(/attempts?:/);
  });

  it('classifies errors and redacts URLs', () => {
    expect(isTransientPgError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientPgError(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe(true);
    expect(isTransientPgError(Object.assign(new Error('sorry, too many clients already'), { code: '53300' }))).toBe(true);
    expect(isTransientPgError(Object.assign(new Error('password authentication failed'), { code: '28P01' }))).toBe(false);
    expect(isTransientPgError(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
    expect(redactUrl('postgres://a:b@h:5432/d')).toBe('postgres://a:***@h:5432/d');
  });
});
