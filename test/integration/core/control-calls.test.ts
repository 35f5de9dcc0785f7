/**
 * Control calls a head cannot serve — a method it does not have (an older or newer client), a body
 * of the wrong shape, bytes that are not msgpack — come back to the caller as typed errors naming
 * what was wrong, and the head goes on serving. One head in this process, no workers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidControlRequestError, UnknownControlMethodError } from 'shoal';
// eslint-disable-next-line no-restricted-imports -- a head and a raw client, started in this process
import { Head, HeadClient } from '../../../dist/src/core/index.js';

const dir = mkdtempSync(join(tmpdir(), 'shoal-control-'));
let head: Head;
let client: HeadClient;
let token = '';

beforeAll(async () => {
  head = new Head({ dir, port: 0, metricsPort: -1 });
  const info = await head.start();
  token = readFileSync(info.tokenFile, 'utf8').trim();
  client = new HeadClient({ address: info.address, token });
});
afterAll(async () => {
  client?.close();
  await head?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A client that does not go through the typed table (another version's, or hand-made). */
const untyped = (method: string, body: unknown): Promise<unknown> =>
  (client.control as unknown as (this: HeadClient, m: string, b: unknown) => Promise<unknown>).call(client, method, body);

it('an unknown method is an UnknownControlMethodError listing the known ones', async () => {
  const err = await untyped('job-delete', { id: 'j1' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UnknownControlMethodError);
  expect(err).toMatchObject({ method: 'job-delete', code: 'UNKNOWN_CONTROL_METHOD' });
  expect((err as UnknownControlMethodError).knownMethods).toContain('job-get');
});

it('a body of the wrong shape is an InvalidControlRequestError naming the field', async () => {
  const err = await untyped('pg-create', { id: 'pg1', bundles: [{ CPU: 'one' }], strategy: 'PACK', sessionId: 's' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InvalidControlRequestError);
  expect(err).toMatchObject({ method: 'pg-create', field: 'bundles[0].CPU' });
  const noName = await untyped('get-actor', null).catch((e: unknown) => e);
  expect(noName).toMatchObject({ method: 'get-actor', field: 'body', code: 'INVALID_CONTROL_REQUEST' });
});

it('bytes that are not msgpack are an InvalidControlRequestError, and the head serves on', async () => {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  const err = await new Promise<grpc.ServiceError | null>((resolve) =>
    client.raw.Control({ method: 'job-get', body: Uint8Array.from([0x82, 0xa2, 0x69]) /* a map of two entries, cut short */ }, md, (e) => resolve(e)),
  );
  expect(err?.code).toBe(grpc.status.FAILED_PRECONDITION);
  expect(JSON.parse(err!.details)).toMatchObject({ name: 'InvalidControlRequestError', context: { method: 'job-get', field: 'body' } });
  // After all of the above, the head still answers.
  await expect(client.control('ping')).resolves.toMatchObject({ address: head.info.address });
  await expect(client.control('job-list')).resolves.toEqual([]);
});
