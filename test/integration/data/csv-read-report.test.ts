/**
 * What a CSV read did silently reaches the driver (issue 13): ragged rows padded or truncated in the
 * default mode are counted per file in `lastExecution().events`; an unterminated quote fails the read
 * task in the default mode too, naming the file and the line the quote opened on.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readCsv } from 'shoal/data';
import { TestCluster } from '../../harness/test-cluster.js';

let tc: TestCluster;
let dir: string;

beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2 });
  dir = await mkdtemp(join(tmpdir(), 'shoal-csv-report-'));
});

afterAll(async () => {
  await tc?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('ragged rows in the default mode are counted and reported by lastExecution()', async () => {
  const file = join(dir, 'ragged.csv');
  await writeFile(file, 'a,b,c\n1,2,3\n4,5\n6,7,8,9\n');
  const ds = readCsv(file);
  expect((await ds.collect()).numRows).toBe(3);
  expect(ds.lastExecution().events).toContain(
    `${file}: 2 records with a wrong number of fields padded with nulls or truncated (first: line 3: expected 3 fields but found 2); mode 'failfast' fails on them, 'dropMalformed' drops them`,
  );
});

it('an unterminated quote fails the default-mode read, naming the file and line', async () => {
  const file = join(dir, 'open.csv');
  await writeFile(file, 'a,b\n1,x\n2,"never closed\n3,y\n');
  // Schema inference reads the file first: the reader's error arrives as itself.
  const err = (await readCsv(file).count().catch((e: unknown) => e)) as Error;
  expect(err).toMatchObject({ name: 'MalformedRecordError', code: 'DATA_MALFORMED_RECORD' });
  expect(err.message).toContain(`malformed record at ${file}:3: quoted field opened on line 3 is not closed at the end of the input`);
});
