/** An overwrite whose compute fails in its third partition: the target keeps its rows, no staging folder is left. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { range, readParquet } from 'shoal/data';
import { failAboveIdBench } from '../../fixtures/fault-tasks.js';
import type { Fault } from '../../lib/fault.js';

export const fault: Fault = {
  name: 'write fails midway',
  area: 'data',
  async run({ dir }) {
    const t = join(dir, 't');
    await range(500).writeParquet(t);
    const err = await range(4000, { numPartitions: 4 }).mapBatches(failAboveIdBench, { args: [1500] }).writeParquet(t, { mode: 'overwrite' }).catch((e: unknown) => e);
    const left = await readParquet(t).count().catch(() => 0);
    const leaked = (await readdir(dir)).filter((n) => n.includes('shoal-staging') || n.includes('shoal-old')).length;
    return {
      ran: "range(4000, 4 partitions).mapBatches(fails at partition 3).writeParquet(T, { mode: 'overwrite' })",
      expected: 'the task error; T keeps its 500 rows; no staging folder left',
      happened: `${err instanceof Error ? 'failed' : 'did not fail'}; T has ${left} rows; ${leaked} staging folders left`,
      wrongResults: err instanceof Error ? 0 : 1,
      lostWrites: 500 - left,
      leakedFiles: leaked,
      recoverSeconds: 0,
    };
  },
};
