/**
 * The live job's watched folder (examples/rental-recs/live-updates.ts, CsvFolderSource): files in
 * name order, one record per row with its table by the header, a file with neither header one
 * record naming it, only `*.csv` read, and `commit` moving the files up to the offset to applied/.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CsvFolderSource } from '../../../examples/rental-recs/live-updates.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-csv-folder-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('CsvFolderSource', () => {
  it('hands out the rows of *.csv files in name order, tagged ratings or listings by the header', async () => {
    const dir = folder({
      'b.csv': 'id,neighbourhood\n77,Riverside\n',
      'a.csv': 'user_id,listing_id,rating\n1,77,5\n2, 78 ,1\n\n',
      'c.tmp': 'user_id,listing_id,rating\n9,9,9\n',
    });
    const s = new CsvFolderSource(dir);
    await s.open();
    const recs = await s.poll(100, 0);
    expect(recs.map((r) => [r.offset, r.topic, r.value])).toEqual([
      ['a.csv', 'ratings', { user_id: '1', listing_id: '77', rating: '5' }],
      ['a.csv', 'ratings', { user_id: '2', listing_id: '78', rating: '1' }],
      ['b.csv', 'listings', { id: '77', neighbourhood: 'Riverside' }],
    ]);
    expect(new Set(recs.map((r) => r.id)).size).toBe(3);
    expect(await s.poll(100, 0)).toEqual([]);
    await s.close();
  });

  it('gives a file with neither header one record that names it (the live job rejects and counts it)', async () => {
    const s = new CsvFolderSource(folder({ 'x.csv': 'who,what\n1,2\n' }));
    await s.open();
    const [rec, ...rest] = await s.poll(100, 0);
    expect(rest).toEqual([]);
    expect(rec!.topic).toBe('file x.csv (header "who,what")');
  });

  it('moves the files up to the committed offset to applied/, and waits for new ones', async () => {
    const dir = folder({ '1.csv': 'id\n1\n', '2.csv': 'id\n2\n' });
    const s = new CsvFolderSource(dir);
    await s.open();
    await s.poll(1, 0);
    await s.commit('1.csv');
    expect(existsSync(join(dir, 'applied', '1.csv'))).toBe(true);
    expect(existsSync(join(dir, '1.csv'))).toBe(false);
    expect((await s.poll(100, 0)).map((r) => r.value.id)).toEqual(['2']);
    const next = s.poll(100, 10_000);
    writeFileSync(join(dir, '3.csv'), 'id\n3\n');
    expect((await next).map((r) => r.value.id)).toEqual(['3']);
    await s.commit('3.csv');
    expect(['2.csv', '3.csv'].every((f) => existsSync(join(dir, 'applied', f)))).toBe(true);
  });
});
