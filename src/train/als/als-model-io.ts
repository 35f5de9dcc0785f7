/**
 * The on-disk form of an ALS model: `metadata.json` (format name, version, rank, parameters, and
 * for each binary file its byte length and SHA-256) beside little-endian binary arrays —
 * `user-ids.f64`, `user-factors.f32`, `item-ids.f64`, `item-factors.f32` — and, for a side whose
 * ids were strings, `user-labels.json` / `item-labels.json` (the sorted strings; the ids are then
 * their positions). Version 2 added the label files; version 1 models (no labels) still load.
 * Loading checks every length and digest, so a truncated or altered file is reported, never half-read.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFormatError, ModelVersionError } from '../errors.js';

export const ALS_MODEL_FORMAT = 'shoal.als-model';
export const ALS_MODEL_VERSION = 2;

export interface SavedALSModel {
  rank: number;
  /** Training parameters and column names, kept for reference and for `transform`. */
  params: Record<string, unknown>;
  userIds: Float64Array;
  itemIds: Float64Array;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  /** String ids of users and items (ids are then 0..n-1, positions in the labels); absent for integer ids. */
  userLabels?: readonly string[] | undefined;
  itemLabels?: readonly string[] | undefined;
}

interface FileEntry {
  bytes: number;
  sha256: string;
}

interface Metadata {
  format: string;
  version: number;
  rank: number;
  numUsers: number;
  numItems: number;
  params: Record<string, unknown>;
  files: Record<string, FileEntry>;
  savedAt: string;
}

const FILES = {
  userIds: 'user-ids.f64',
  userFactors: 'user-factors.f32',
  itemIds: 'item-ids.f64',
  itemFactors: 'item-factors.f32',
} as const;

const LABEL_FILES = { userLabels: 'user-labels.json', itemLabels: 'item-labels.json' } as const;

const bytesOf = (a: Float32Array | Float64Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Writes a model to `dir` (created if needed); metadata.json is written last, atomically. */
export async function writeALSModel(dir: string, m: SavedALSModel): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files: Record<string, FileEntry> = {};
  for (const [key, name] of Object.entries(FILES) as [keyof typeof FILES, string][]) {
    const b = bytesOf(m[key]);
    await writeFile(join(dir, name), b);
    files[name] = { bytes: b.byteLength, sha256: sha256(b) };
  }
  for (const [key, name] of Object.entries(LABEL_FILES) as [keyof typeof LABEL_FILES, string][]) {
    const labels = m[key];
    if (labels === undefined) continue;
    const b = new TextEncoder().encode(JSON.stringify(labels));
    await writeFile(join(dir, name), b);
    files[name] = { bytes: b.byteLength, sha256: sha256(b) };
  }
  const meta: Metadata = {
    format: ALS_MODEL_FORMAT, version: ALS_MODEL_VERSION, rank: m.rank, numUsers: m.userIds.length, numItems: m.itemIds.length,
    params: m.params, files, savedAt: new Date().toISOString(),
  };
  const tmp = join(dir, `metadata.json.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify(meta, null, 2)}\n`);
  await rename(tmp, join(dir, 'metadata.json'));
}

/** Reads a model written by `writeALSModel`. Throws ModelFormatError or ModelVersionError. */
export async function readALSModel(dir: string): Promise<SavedALSModel> {
  const metaPath = join(dir, 'metadata.json');
  let text: string;
  try {
    text = await readFile(metaPath, 'utf8');
  } catch (err) {
    throw new ModelFormatError(metaPath, 'cannot read the model metadata (is this a saved ALS model folder?)', { cause: err });
  }
  let meta: Metadata;
  try {
    meta = JSON.parse(text) as Metadata;
  } catch (err) {
    throw new ModelFormatError(metaPath, 'metadata is not valid JSON (the file is corrupt)', { cause: err });
  }
  if (typeof meta !== 'object' || meta === null || meta.format !== ALS_MODEL_FORMAT) {
    throw new ModelFormatError(metaPath, `not an ALS model (format is ${JSON.stringify((meta as Partial<Metadata> | null)?.format)}, expected "${ALS_MODEL_FORMAT}")`);
  }
  if (typeof meta.version !== 'number' || !Number.isInteger(meta.version) || meta.version < 1) {
    throw new ModelFormatError(metaPath, `invalid format version ${JSON.stringify(meta.version)}`);
  }
  if (meta.version > ALS_MODEL_VERSION) throw new ModelVersionError(metaPath, meta.version, ALS_MODEL_VERSION);
  const { rank, numUsers, numItems } = meta;
  for (const [k, v] of Object.entries({ rank, numUsers, numItems })) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < (k === 'rank' ? 1 : 0)) throw new ModelFormatError(metaPath, `invalid ${k} ${JSON.stringify(v)}`);
  }
  const expected: Record<keyof typeof FILES, number> = {
    userIds: numUsers * 8, userFactors: numUsers * rank * 4, itemIds: numItems * 8, itemFactors: numItems * rank * 4,
  };
  const readEntry = async (name: string, expectedBytes: number | undefined): Promise<Buffer> => {
    const path = join(dir, name);
    const entry = meta.files?.[name];
    if (!entry) throw new ModelFormatError(metaPath, `lists no file ${name}`);
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (err) {
      throw new ModelFormatError(path, 'missing model file', { cause: err });
    }
    if (buf.byteLength !== entry.bytes || (expectedBytes !== undefined && buf.byteLength !== expectedBytes)) {
      throw new ModelFormatError(path, `has ${buf.byteLength} bytes, expected ${expectedBytes ?? entry.bytes} (the file is truncated or corrupt)`);
    }
    if (sha256(buf) !== entry.sha256) throw new ModelFormatError(path, 'checksum mismatch (the file is corrupt)');
    return buf;
  };
  const read = async (key: keyof typeof FILES): Promise<ArrayBuffer> => {
    const buf = await readEntry(FILES[key], expected[key]);
    // A fresh, aligned buffer.
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  };
  /** Labels of one side when the model lists them (version 2 models with string ids). */
  const readLabels = async (key: keyof typeof LABEL_FILES, count: number): Promise<string[] | undefined> => {
    const name = LABEL_FILES[key];
    if (!meta.files?.[name]) return undefined;
    const buf = await readEntry(name, undefined);
    let labels: unknown;
    try {
      labels = JSON.parse(buf.toString('utf8'));
    } catch (err) {
      throw new ModelFormatError(join(dir, name), 'labels are not valid JSON (the file is corrupt)', { cause: err });
    }
    if (!Array.isArray(labels) || labels.length !== count || !labels.every((l) => typeof l === 'string')) {
      throw new ModelFormatError(join(dir, name), `must hold ${count} strings (the file is corrupt)`);
    }
    return labels as string[];
  };
  return {
    rank,
    params: meta.params ?? {},
    userIds: new Float64Array(await read('userIds')),
    userFactors: new Float32Array(await read('userFactors')),
    itemIds: new Float64Array(await read('itemIds')),
    itemFactors: new Float32Array(await read('itemFactors')),
    userLabels: await readLabels('userLabels', numUsers),
    itemLabels: await readLabels('itemLabels', numItems),
  };
}
