/**
 * Training checkpoints: one file per checkpoint (the replica state, shoal-serialized, typed arrays
 * raw), written to a temp name and renamed, then `latest.json` is replaced the same way — so a
 * reader never sees a torn checkpoint, whenever the writer dies.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from '../../core/index.js';
import type { ReplicaState } from './replica-data.js';

export interface CheckpointMeta {
  file: string;
  /** The `fit()` that wrote it: a restart only loads checkpoints of its own run. */
  runId: string;
  /** Resume at this epoch and step within it. */
  epoch: number;
  step: number;
  globalStep: number;
  /** Global losses of the steps of `epoch` before `step`. */
  epochLosses: number[];
}

export async function writeCheckpoint(dir: string, meta: Omit<CheckpointMeta, 'file'>, state: ReplicaState): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = `checkpoint-${String(meta.globalStep).padStart(8, '0')}.bin`;
  const tmp = join(dir, `.${file}.${process.pid}.tmp`);
  await writeFile(tmp, serialize(state));
  await rename(tmp, join(dir, file));
  const latestTmp = join(dir, `.latest.${process.pid}.tmp`);
  await writeFile(latestTmp, JSON.stringify({ ...meta, file }));
  await rename(latestTmp, join(dir, 'latest.json'));
}

/** The last complete checkpoint in `dir` written by run `runId`, or undefined. */
export async function readLatestCheckpoint(dir: string, runId: string): Promise<{ meta: CheckpointMeta; state: ReplicaState } | undefined> {
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')) as CheckpointMeta;
  } catch {
    return undefined;
  }
  if (meta.runId !== runId) return undefined;
  const state = deserialize<ReplicaState>(new Uint8Array(await readFile(join(dir, meta.file))));
  return { meta, state };
}
