/** writeParquet(T, overwrite) of a plan that reads T: refused before compute, T intact (it used to be deleted first). */
import { col, readParquet, range, UnsafeWriteError } from 'shoal/data';
import { join } from 'node:path';
import type { Fault } from '../../lib/fault.js';

export const fault: Fault = {
  name: 'overwrite a folder the plan reads',
  area: 'data',
  async run({ dir }) {
    const t = join(dir, 't');
    await range(1000).writeParquet(t);
    const err = await readParquet(t).filter(col('id').lt(10)).writeParquet(t, { mode: 'overwrite' }).catch((e: unknown) => e);
    const left = await readParquet(t).count().catch(() => 0);
    const refused = err instanceof UnsafeWriteError;
    return {
      ran: "readParquet(T).filter(id < 10).writeParquet(T, { mode: 'overwrite' })",
      expected: 'UnsafeWriteError before compute; T keeps its 1000 rows',
      happened: `${refused ? 'UnsafeWriteError' : `no refusal (${String(err)})`}; T has ${left} rows`,
      wrongResults: refused ? 0 : 1,
      lostWrites: 1000 - left,
      leakedFiles: 0,
      recoverSeconds: 0,
    };
  },
};
