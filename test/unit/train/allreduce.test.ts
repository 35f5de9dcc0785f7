/**
 * The allreduce algorithms of data-parallel training over an in-memory transport: every rank ends
 * with the mean of all ranks' buffers (the cluster test in test/integration/train runs them between
 * worker actors).
 */
import { describe, expect, it } from 'vitest';
import { butterflyAllreduceMean, Mailbox, ringAllreduceMean } from '../../../src/train/tfjs/ring-allreduce.js';

describe('allreduce', () => {
  const run = async (algorithm: typeof ringAllreduceMean, size: number): Promise<Float32Array[]> => {
    const boxes = Array.from({ length: size }, () => new Mailbox());
    const bufs = Array.from({ length: size }, (_, r) => Float32Array.from({ length: 10 }, (_, i) => r * 100 + i));
    await Promise.all(bufs.map((b, r) => algorithm(b, r, size, 't', {
      send: async (to, key, chunk) => boxes[to]!.put(key, chunk),
      receive: (key) => boxes[r]!.take(key),
    })));
    return bufs;
  };
  it('ring averages buffers among 3 ranks through an in-memory transport', async () => {
    for (const b of await run(ringAllreduceMean, 3)) expect([...b]).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
  });
  it('butterfly averages among 4 ranks, bit-identical everywhere, and rejects 3 ranks', async () => {
    const bufs = await run(butterflyAllreduceMean, 4);
    for (const b of bufs) expect([...b]).toEqual(Array.from({ length: 10 }, (_, i) => 150 + i));
    await expect(run(butterflyAllreduceMean, 3)).rejects.toThrow(/power-of-two/);
  });
});
