/**
 * The direct channel between the ingress and a replica, both ends in this process over real TCP on
 * loopback (the replica's end serves a plain object, as it serves a replica instance in its actor
 * thread): frames larger than a socket chunk, many calls in flight answered out of order, errors
 * keeping their class, an unknown method, a wrong secret, the replica going away.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ActorDiedError, TaskError } from 'shoal';
import { BadRequestError } from 'shoal/serve';
import { DirectChannel, openDirectServer } from '../../../dist/src/serve/direct-channel.js';

const SECRET = 'a-secret-of-at-least-16-chars';
const channels: DirectChannel[] = [];
afterAll(() => channels.forEach((c) => c.close()));

const replica = {
  async call(req: { ms?: number; echo?: unknown; refuse?: string; throw?: string }) {
    if (req.ms) await new Promise((r) => setTimeout(r, req.ms));
    if (req.refuse) throw new BadRequestError(req.refuse);
    if (req.throw) throw new RangeError(req.throw);
    return { echo: req.echo ?? null };
  },
  callBatch(reqs: number[]) {
    return reqs.map((n) => n * 2);
  },
};

async function connect(secret = SECRET): Promise<DirectChannel> {
  const address = await openDirectServer(replica, 'Replica', SECRET);
  if (!address) throw new Error('no direct channel offered');
  const ch = await DirectChannel.connect(address, secret, 'actor-1', 'replica#1');
  channels.push(ch);
  return ch;
}

describe('direct channel', () => {
  it('carries a 4 MB answer (many socket chunks) and a batch method', async () => {
    const ch = await connect();
    const big = 'x'.repeat(4 << 20);
    expect(await ch.invoke('call', { echo: big })).toEqual({ echo: big });
    expect(await ch.invoke('callBatch', [1, 2, 3])).toEqual([2, 4, 6]);
    expect(ch.calls).toBe(2);
  });

  it('answers concurrent calls by id, whatever order they finish in', async () => {
    const ch = await connect();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => ch.invoke('call', { ms: (50 - i) % 7, echo: i })));
    expect(answers).toEqual(Array.from({ length: 50 }, (_, i) => ({ echo: i })));
  });

  it('fails a call on its own: shoal errors keep their class, others become TaskError; unknown methods are refused', async () => {
    const ch = await connect();
    await expect(ch.invoke('call', { refuse: 'no thanks' })).rejects.toBeInstanceOf(BadRequestError);
    const thrown = await ch.invoke('call', { throw: 'bad' }).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(TaskError);
    expect(thrown).toMatchObject({ causeName: 'RangeError', causeMessage: 'bad' });
    await expect(ch.invoke('nope', 1)).rejects.toThrow(/Replica has no nope/);
    await expect(ch.invoke('__shoalDirect', SECRET)).rejects.toThrow(/Replica has no __shoalDirect/);
    expect(await ch.invoke('call', { echo: 'still open' })).toEqual({ echo: 'still open' });
  });

  it('drops a connection without the secret: its calls fail with ActorDiedError', async () => {
    const ch = await connect('the-wrong-secret-entirely');
    await expect(ch.invoke('call', {})).rejects.toBeInstanceOf(ActorDiedError);
    expect(ch.open).toBe(false);
  });

  it('fails calls in flight with ActorDiedError when the connection closes', async () => {
    const ch = await connect();
    const slow = ch.invoke('call', { ms: 5_000 });
    ch.close();
    await expect(slow).rejects.toThrow(/direct serving channel closed/);
    await expect(ch.invoke('call', {})).rejects.toBeInstanceOf(ActorDiedError);
  });

  it('refuses a short secret', () => {
    expect(() => openDirectServer({}, 'X', 'short')).toThrow(/secret of at least 16 characters/);
  });
});
