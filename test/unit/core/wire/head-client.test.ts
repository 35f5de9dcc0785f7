/**
 * A call on a HeadClient that was closed meanwhile (a driver or worker replaces its client while it
 * resumes its session; a bundle upload retrying with backoff may still hold the old one) fails with
 * a ConnectionError, which such retries take as "try again", not with grpc-js's plain Error.
 */
import { expect, it } from 'vitest';
import { ConnectionError } from '../../../../src/core/errors.js';
import { HeadClient } from '../../../../src/core/wire/head-client.js';

it('a call on a closed client is a ConnectionError naming the address, for every kind of call', async () => {
  const client = new HeadClient({ address: '127.0.0.1:9', token: 'x' });
  client.close();
  const calls: Array<[string, Promise<unknown>]> = [
    ['control', client.control('ping')],
    ['uploadBundle', client.uploadBundle('0123456789abcdef0123456789abcdef', new Uint8Array(4))],
    ['downloadBundle', client.downloadBundle('0123456789abcdef0123456789abcdef')],
    ['jobLogs', client.jobLogs('j1', { follow: false }, () => undefined)],
  ];
  for (const [what, p] of calls) {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err, what).toBeInstanceOf(ConnectionError);
    expect((err as Error).message, what).toMatch(/^cannot reach a shoal head at 127\.0\.0\.1:9: the call could not start \(.*shut down.*\)$/);
  }
});
