/**
 * The on-disk form of an ALS model: `metadata.json` (format name, version, rank, parameters, and
 * for each binary file its byte length and SHA-256) beside little-endian binary arrays —
 * `user-ids.f64`, `user-factors.f32`, `item-ids.f64`, `item-factors.f32` — and, for a side whose
 * ids were strings, `user-labels.json` / `item-labels.json` (the sorted strings; the ids are then
 * their positions). Version 2 added the label files; version 1 models (no labels) still load.
 * The folder is a checksummed artifact folder (src/store): written whole or not at all, every length
 * and digest checked on load, so a truncated or altered file is reported, never half-read.
 */
import { join } from 'node:path';
import { bytesOf, readArtifactFolder, writeArtifactFolder, type ArtifactFileEntry, type SaveOptions } from '../../store/index.js';
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

interface Metadata {
  format: string;
  version: number;
  rank: number;
  numUsers: number;
  numItems: number;
  params: Record<string, unknown>;
  files: Record<string, ArtifactFileEntry>;
  savedAt: string;
}

const FILES = {
  userIds: 'user-ids.f64',
  userFactors: 'user-factors.f32',
  itemIds: 'item-ids.f64',
  itemFactors: 'item-factors.f32',
} as const;

const LABEL_FILES = { userLabels: 'user-labels.json', itemLabels: 'item-labels.json' } as const;

const corrupt = (path: string, detail: string, cause?: unknown): ModelFormatError => new ModelFormatError(path, detail, { cause });

/**
 * Writes a model to `dir` as a checksummed artifact folder. Throws `ArtifactExistsError` when `dir`
 * already holds something, unless `options.overwrite`.
 */
export async function writeALSModel(dir: string, m: SavedALSModel, options: SaveOptions = {}): Promise<void> {
  const files: Record<string, Uint8Array> = {};
  for (const [key, name] of Object.entries(FILES) as [keyof typeof FILES, string][]) files[name] = bytesOf(m[key]);
  for (const [key, name] of Object.entries(LABEL_FILES) as [keyof typeof LABEL_FILES, string][]) {
    const labels = m[key];
    if (labels !== undefined) files[name] = new TextEncoder().encode(JSON.stringify(labels));
  }
  await writeArtifactFolder(dir, {
    files,
    manifestName: 'metadata.json',
    manifest: (entries): Metadata => ({
      format: ALS_MODEL_FORMAT, version: ALS_MODEL_VERSION, rank: m.rank, numUsers: m.userIds.length, numItems: m.itemIds.length,
      params: m.params, files: entries, savedAt: new Date().toISOString(),
    }),
  }, options);
}

/** Reads a model written by `writeALSModel`. Throws ModelFormatError or ModelVersionError. */
export async function readALSModel(dir: string): Promise<SavedALSModel> {
  const folder = await readArtifactFolder(dir, { manifestName: 'metadata.json', what: 'a saved ALS model', corrupt });
  const metaPath = folder.manifestPath;
  const meta = folder.manifest as Metadata;
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
  const read = (key: keyof typeof FILES): Promise<ArrayBuffer> => folder.read(FILES[key], { expectedBytes: expected[key] });
  /** Labels of one side when the model lists them (version 2 models with string ids). */
  const readLabels = async (key: keyof typeof LABEL_FILES, count: number): Promise<string[] | undefined> => {
    const name = LABEL_FILES[key];
    if (!folder.lists(name)) return undefined;
    const text = new TextDecoder().decode(await folder.read(name));
    let labels: unknown;
    try {
      labels = JSON.parse(text);
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
