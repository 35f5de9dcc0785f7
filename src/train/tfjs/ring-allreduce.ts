/**
 * Ring allreduce among worker actors (Baidu/Horovod's algorithm): the buffer is cut into W chunks;
 * in W−1 reduce-scatter steps each worker sends one chunk to its successor and adds the chunk it
 * receives from its predecessor, so each ends owning one fully summed chunk; W−1 all-gather steps
 * pass the summed chunks around the ring. Each worker sends 2·(W−1)/W of the buffer, whatever W —
 * and nothing goes through the driver. Transport is pluggable: the worker actor sends with an actor
 * call to its successor and receives through a keyed mailbox; sends are not awaited step by step.
 */

export interface RingTransport {
  /** Sends `chunk` to rank `to` under `key`; resolves when it was delivered. */
  send(to: number, key: string, chunk: Float32Array): Promise<void>;
  /** Resolves with the chunk another rank sent to this one under `key`. */
  receive(key: string): Promise<Float32Array>;
}

/** Chunk c covers [bounds[c], bounds[c+1]). */
export function chunkBounds(n: number, parts: number): number[] {
  const b = [0];
  for (let c = 1; c <= parts; c++) b.push(Math.floor((n * c) / parts));
  return b;
}

/** The same promise, marked handled (it is awaited later; an early rejection must not be reported as unhandled). */
function quiet(p: Promise<void>): Promise<void> {
  p.catch(() => undefined);
  return p;
}

const mod = (a: number, m: number): number => ((a % m) + m) % m;

/** Averages `buf` in place across the ring (rank `rank` of `size`). `tag` must be unique per call. */
export async function ringAllreduceMean(buf: Float32Array, rank: number, size: number, tag: string, t: RingTransport): Promise<void> {
  if (size === 1) return;
  const b = chunkBounds(buf.length, size);
  const chunk = (c: number): Float32Array => buf.subarray(b[c]!, b[c + 1]!);
  const sent: Promise<void>[] = [];
  const next = (rank + 1) % size;
  for (let s = 0; s < size - 1; s++) {
    const sendC = mod(rank - s, size);
    const recvC = mod(rank - s - 1, size);
    sent.push(quiet(t.send(next, `${tag}/rs/${s}`, chunk(sendC).slice())));
    const got = await t.receive(`${tag}/rs/${s}`);
    const dst = chunk(recvC);
    for (let i = 0; i < dst.length; i++) dst[i]! += got[i]!;
  }
  for (let s = 0; s < size - 1; s++) {
    const sendC = mod(rank + 1 - s, size);
    const recvC = mod(rank - s, size);
    sent.push(quiet(t.send(next, `${tag}/ag/${s}`, chunk(sendC).slice())));
    chunk(recvC).set(await t.receive(`${tag}/ag/${s}`));
  }
  // Acknowledgements are awaited once, at the end: a step waits only for its incoming chunk, so a
  // ring step costs one one-way delivery instead of a round trip. A failed send surfaces here.
  await Promise.all(sent);
  const inv = 1 / size;
  for (let i = 0; i < buf.length; i++) buf[i]! *= inv;
}

/**
 * Recursive-doubling ("butterfly") allreduce for a power-of-two number of ranks: log2(W) rounds, in
 * round k each rank swaps its whole buffer with rank ^ 2^k and adds. It moves more bytes than the
 * ring (log2(W)·N instead of 2·(W−1)/W·N) in fewer sequential messages (log2(W) instead of
 * 2·(W−1)), so it wins when a message's latency dominates — small models. Every rank adds the
 * same pairs in the same grouping, so all end bit-identical.
 */
export async function butterflyAllreduceMean(buf: Float32Array, rank: number, size: number, tag: string, t: RingTransport): Promise<void> {
  if (size === 1) return;
  if ((size & (size - 1)) !== 0) throw new RangeError(`butterfly allreduce needs a power-of-two number of ranks (got ${size})`);
  const sent: Promise<void>[] = [];
  for (let k = 1, round = 0; k < size; k <<= 1, round++) {
    sent.push(quiet(t.send(rank ^ k, `${tag}/bf/${round}`, buf.slice())));
    const got = await t.receive(`${tag}/bf/${round}`);
    for (let i = 0; i < buf.length; i++) buf[i]! += got[i]!;
  }
  await Promise.all(sent);
  const inv = 1 / size;
  for (let i = 0; i < buf.length; i++) buf[i]! *= inv;
}

/** Chunks that arrived before (or after) their receiver asked, by key. */
export class Mailbox {
  private readonly ready = new Map<string, Float32Array>();
  private readonly waiting = new Map<string, { resolve: (v: Float32Array) => void; reject: (e: Error) => void }>();

  put(key: string, chunk: Float32Array): void {
    const w = this.waiting.get(key);
    if (w) {
      this.waiting.delete(key);
      w.resolve(chunk);
    } else this.ready.set(key, chunk);
  }

  has(key: string): boolean {
    return this.ready.has(key);
  }

  take(key: string): Promise<Float32Array> {
    const v = this.ready.get(key);
    if (v) {
      this.ready.delete(key);
      return Promise.resolve(v);
    }
    return new Promise((resolve, reject) => this.waiting.set(key, { resolve, reject }));
  }

  /** Fails every pending receive (the ring is broken). */
  fail(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    this.ready.clear();
  }
}
