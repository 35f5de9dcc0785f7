/** One NUL byte in a numeric CSV column (failfast), and a JSON array file (it read as one `{}` row). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readCsv, readJson } from 'shoal/data';
import type { Fault } from '../../lib/fault.js';

export const fault: Fault = {
  name: 'CSV NUL byte (failfast) and JSON array file',
  area: 'data',
  async run({ dir }) {
    const csv = join(dir, 'nul.csv');
    await writeFile(csv, 'id,x\n1,1.5\n2,2\u0000\n3,3.25\n');
    const err = await readCsv(csv, { mode: 'failfast' }).collect().catch((e: unknown) => e);
    const failed = err instanceof Error && /nul\.csv:3: a NUL byte/.test(err.message);
    const json = join(dir, 'rows.json');
    await writeFile(json, JSON.stringify([{ id: 1 }, { id: 2 }, { id: 3 }], null, 2));
    const rows = await readJson(json).count().catch(() => -1);
    return {
      ran: "readCsv(file with '2\\0' in a float column, failfast).collect(); readJson(a 3-element JSON array file).count()",
      expected: 'MalformedRecordError at line 3; 3 rows',
      happened: `${failed ? 'error at line 3' : `no error (${String(err)})`}; ${rows} rows`,
      wrongResults: (failed ? 0 : 1) + (rows === 3 ? 0 : 1),
      lostWrites: 0,
      leakedFiles: 0,
      recoverSeconds: 0,
    };
  },
};
