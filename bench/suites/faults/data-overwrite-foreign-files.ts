/** An overwrite of a folder holding files shoal did not write (here reached as a/b/../../sibling): refused, nothing deleted. */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { range, UnsafeWriteError } from 'shoal/data';
import type { Fault } from '../../lib/fault.js';

export const fault: Fault = {
  name: 'overwrite a folder with files shoal did not write',
  area: 'data',
  async run({ dir }) {
    const sibling = join(dir, 'sibling');
    await mkdir(sibling);
    const mine = ['notes.txt', 'data.csv', 'keep.parquet'];
    for (const f of mine) await writeFile(join(sibling, f), 'user data');
    const err = await range(10).writeCsv(`${dir}/a/b/../../sibling`, { mode: 'overwrite' }).catch((e: unknown) => e);
    const kept = mine.filter((f) => existsSync(join(sibling, f))).length;
    const refused = err instanceof UnsafeWriteError;
    return {
      ran: "range(10).writeCsv('<dir>/a/b/../../sibling', { mode: 'overwrite' }) over 3 user files",
      expected: 'UnsafeWriteError naming the files; all 3 kept',
      happened: `${refused ? `UnsafeWriteError (${(err as UnsafeWriteError).files.length} named)` : `no refusal (${String(err)})`}; ${kept} of 3 kept`,
      wrongResults: refused ? 0 : 1,
      lostWrites: mine.length - kept,
      leakedFiles: 0,
      recoverSeconds: 0,
    };
  },
};
