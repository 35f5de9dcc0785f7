/** init() checks an address's shape before it connects: a bare host names the missing port, not "connection refused". */
import { describe, expect, it } from 'vitest';
import { init } from '../../../src/core/api/api.js';
import { InvalidOptionError } from '../../../src/core/errors.js';

describe('init({ address })', () => {
  it("refuses 'localhost' saying it needs HOST:PORT", async () => {
    const err = await init({ address: 'localhost', token: 't' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toBe(
      "options.address must be HOST:PORT (e.g. '127.0.0.1:6380'), 'auto' or 'local' (got 'localhost'): " +
        "add the head's port, e.g. 'localhost:6380' — `shoal status` on the head's host prints it",
    );
  });

  it.each(['localhost:', 'localhost:99999', 'http://localhost:6380'])('refuses %s', async (address) => {
    const err = await init({ address, token: 't' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toContain(`options.address must be HOST:PORT (e.g. '127.0.0.1:6380'), 'auto' or 'local' (got '${address}')`);
  });
});
