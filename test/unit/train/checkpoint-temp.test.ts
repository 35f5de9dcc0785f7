/**
 * The Trainer's own checkpoint folders do not pile up (issue 13: each `npm start` left three 25 MB
 * `/tmp/shoal-trainer-*` folders): a new one sweeps those of dead drivers (pid in the name) and
 * unnamed ones from before that naming once older than an hour; a live driver's folder stays.
 */
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeTrainerTemp, sweepTrainerTemp } from '../../../src/train/tfjs/checkpoint-temp.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-ckpt-sweep-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('sweeps dead drivers’ folders and old unnamed ones, keeps live and recent ones, and makes one named by pid', async () => {
  const dead = 'shoal-trainer-4194305-abcDEF';
  const live = `shoal-trainer-${process.ppid}-xyzXYZ`;
  const oldLegacy = 'shoal-trainer-Ab12Cd';
  const newLegacy = 'shoal-trainer-Zz98Yy';
  for (const n of [dead, live, oldLegacy, newLegacy]) {
    await mkdir(join(dir, n));
    await writeFile(join(dir, n, 'latest.json'), '{}');
  }
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  await utimes(join(dir, oldLegacy), twoHoursAgo, twoHoursAgo);
  expect((await sweepTrainerTemp(dir)).sort()).toEqual([dead, oldLegacy].sort());
  const made = await makeTrainerTemp(dir);
  expect(made).toMatch(new RegExp(`shoal-trainer-${process.pid}-[A-Za-z0-9]{6}$`));
  expect((await readdir(dir)).sort()).toEqual([live, newLegacy, made.slice(dir.length + 1)].sort());
});
