/**
 * A CSV with a quote left open on line 2 (it swallowed the rest of the file into one field, 4.1M rows →
 * count 101 after 521 s): an error naming line 2 in the default mode. Linearity: the same file read to
 * its end (maxFieldBytes above its size) at 8 and 16 MiB — the time ratio should be ≈ 2, not ≈ 4.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readCsv } from 'shoal/data';
import type { Fault } from '../../lib/fault.js';

const LINE = '12345,some text here,67.5\n';

async function file(dir: string, mib: number): Promise<string> {
  const p = join(dir, `open-${mib}.csv`);
  await writeFile(p, `id,name,x\n1,"oops,1.0\n${LINE.repeat(Math.ceil((mib * 2 ** 20) / LINE.length))}`);
  return p;
}

async function secondsToFail(path: string, maxFieldBytes?: number): Promise<{ s: number; err: unknown }> {
  const started = performance.now();
  const err = await readCsv(path, maxFieldBytes ? { maxFieldBytes } : {}).count().catch((e: unknown) => e);
  return { s: (performance.now() - started) / 1000, err };
}

export const fault: Fault = {
  name: 'CSV quote left open (default mode)',
  area: 'data',
  async run({ dir }) {
    const small = await file(dir, 8);
    const big = await file(dir, 16);
    const first = await secondsToFail(small);
    const msg = first.err instanceof Error ? first.err.message : `no error: ${String(first.err)}`;
    const named = /:2: quoted field opened on line 2 is not closed/.test(msg);
    const a = await secondsToFail(small, 2 ** 30);
    const b = await secondsToFail(big, 2 ** 30);
    const ratio = b.s / a.s;
    return {
      ran: 'readCsv(file with a quote opened on line 2 and never closed).count(), default mode; then 8 vs 16 MiB read to the end',
      expected: 'MalformedRecordError naming line 2; time ratio 16/8 MiB ≈ 2 (linear)',
      happened: `${named ? 'error naming line 2' : msg}; ${a.s.toFixed(2)} s at 8 MiB, ${b.s.toFixed(2)} s at 16 MiB (ratio ${ratio.toFixed(2)})`,
      wrongResults: (named ? 0 : 1) + (ratio > 3 ? 1 : 0),
      lostWrites: 0,
      leakedFiles: 0,
      recoverSeconds: 0,
    };
  },
};
