/**
 * The rental job's Parquet `recommendations` writer SIGKILLed at the swap: readers still find a
 * complete version; the next run recovers (removes the killed run's leftovers) and publishes.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readParquet } from 'shoal/data';
import { recoverTable } from '../../../examples/rental-recs/parquet-versions.js';
import type { Fault } from '../../lib/fault.js';

const WRITER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'replace-table-writer.js');

function writer(address: string, token: string, dir: string, rows: number, kill: boolean): Promise<number | null> {
  const env = { ...process.env, SHOAL_ADDRESS: address, SHOAL_TOKEN: token, ...(kill ? { SHOAL_RENTAL_KILL_AT: 'swap' } : {}) };
  const child = spawn(process.execPath, [WRITER, dir, 'recommendations', String(rows)], { env, stdio: 'ignore' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

export const fault: Fault = {
  name: 'recommendations writer killed at the swap',
  area: 'rental',
  async run({ dir, address, token }) {
    await writer(address, token, dir, 100, false);
    await writer(address, token, dir, 200, true);
    const during = await readParquet(join(dir, 'recommendations')).count().catch(() => -1);
    const started = performance.now();
    const actions = await recoverTable(dir, 'recommendations');
    const recoverSeconds = (performance.now() - started) / 1000;
    const after = await readParquet(join(dir, 'recommendations')).count().catch(() => -1);
    const leftovers = (await readdir(dir)).filter((n) => n !== 'recommendations' && !/^recommendations\.v\d+-\d+$/.test(n));
    const versions = (await readdir(dir)).filter((n) => /^recommendations\.v\d+-\d+$/.test(n)).length;
    return {
      ran: 'replace recommendations (100 rows), then a writer of 200 rows SIGKILLed between creating the new pointer and renaming it; then the next run’s recovery',
      expected: 'readers see the complete 100-row version; recovery removes the temp link and the unpublished version; 1 version left',
      happened: `readers saw ${during} rows; recovery: ${actions.join(', ') || 'nothing'}; after: ${after} rows, ${versions} version(s), ${leftovers.length} other entries`,
      wrongResults: during === 100 && after === 100 ? 0 : 1,
      lostWrites: during < 0 ? 1 : 0,
      leakedFiles: leftovers.length + Math.max(0, versions - 1),
      recoverSeconds,
    };
  },
};
