/**
 * The Trainer's own checkpoint folder, when the caller gives none: `<tmp>/shoal-trainer-<pid>-XXXXXX`,
 * removed when `fit()` ends. A driver killed mid-fit cannot remove it, so each new one first sweeps
 * the folders of drivers that are gone (the pid in the name; unnamed ones from before this naming once
 * older than an hour) — every rental-job run used to leave three 25 MB folders behind.
 */
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive as alive } from '../../core/index.js';

const PREFIX = 'shoal-trainer-';
const LEGACY_AGE_MS = 60 * 60 * 1000;


/** Removes checkpoint folders of dead drivers under `dir`; returns the names removed. */
export async function sweepTrainerTemp(dir = tmpdir(), now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(PREFIX));
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = /^shoal-trainer-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
    let stale: boolean;
    if (m) stale = !alive(Number(m[1]));
    else if (/^shoal-trainer-[A-Za-z0-9]{6}$/.test(name)) {
      try {
        stale = now - statSync(join(dir, name)).mtimeMs > LEGACY_AGE_MS;
      } catch {
        stale = false;
      }
    } else stale = false;
    if (!stale) continue;
    await rm(join(dir, name), { recursive: true, force: true }).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}

/** A fresh checkpoint folder owned by this process (after sweeping dead ones). */
export async function makeTrainerTemp(dir = tmpdir()): Promise<string> {
  await sweepTrainerTemp(dir);
  return mkdtemp(join(dir, `${PREFIX}${process.pid}-`));
}
