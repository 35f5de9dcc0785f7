/**
 * The on-disk form of a neural recommender: `metadata.json` (format, version, sizes, parameters,
 * the network's topology JSON, weight shapes, and each binary file's byte length and SHA-256)
 * beside little-endian arrays — the user and item ids and vectors the model ranks with, the item
 * id slots, the feature standardization, and the network's weights (to score new items by their
 * features). Loading checks every length and digest; metadata is written last, atomically.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFormatError, ModelVersionError } from '../errors.js';
import type { ModelJSON, TensorData } from '../tfjs/index.js';

export const NEURAL_RECOMMENDER_FORMAT = 'shoal.neural-recommender';
export const NEURAL_RECOMMENDER_VERSION = 1;

export interface SavedNeuralRecommender {
  rank: number;
  numFeatures: number;
  params: Record<string, unknown>;
  history: { loss: number[] };
  modelJSON: ModelJSON;
  weights: TensorData[];
  userIds: Float64Array;
  userFactors: Float32Array;
  itemIds: Float64Array;
  itemFactors: Float32Array;
  itemSlots: Int32Array;
  featureMean: Float32Array;
  featureStd: Float32Array;
}

type ArrayKey = 'userIds' | 'userFactors' | 'itemIds' | 'itemFactors' | 'itemSlots' | 'featureMean' | 'featureStd' | 'weights';

const FILES: Record<ArrayKey, string> = {
  userIds: 'user-ids.f64', userFactors: 'user-factors.f32', itemIds: 'item-ids.f64', itemFactors: 'item-factors.f32',
  itemSlots: 'item-slots.i32', featureMean: 'feature-mean.f32', featureStd: 'feature-std.f32', weights: 'weights.f32',
};

interface Metadata {
  format: string;
  version: number;
  rank: number;
  numUsers: number;
  numItems: number;
  numFeatures: number;
  params: Record<string, unknown>;
  history: { loss: number[] };
  modelJSON: ModelJSON;
  weightShapes: { name: string; shape: number[] }[];
  files: Record<string, { bytes: number; sha256: string }>;
  savedAt: string;
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export async function writeNeuralRecommender(dir: string, m: SavedNeuralRecommender): Promise<void> {
  await mkdir(dir, { recursive: true });
  const flat = new Float32Array(m.weights.reduce((s, w) => s + w.data.length, 0));
  let at = 0;
  for (const w of m.weights) {
    flat.set(w.data, at);
    at += w.data.length;
  }
  const arrays: Record<ArrayKey, ArrayBufferView> = { ...m, weights: flat };
  const files: Metadata['files'] = {};
  for (const key of Object.keys(FILES) as ArrayKey[]) {
    const b = bytesOf(arrays[key]);
    await writeFile(join(dir, FILES[key]), b);
    files[FILES[key]] = { bytes: b.byteLength, sha256: sha256(b) };
  }
  const meta: Metadata = {
    format: NEURAL_RECOMMENDER_FORMAT, version: NEURAL_RECOMMENDER_VERSION, rank: m.rank, numUsers: m.userIds.length, numItems: m.itemIds.length,
    numFeatures: m.numFeatures, params: m.params, history: m.history, modelJSON: m.modelJSON,
    weightShapes: m.weights.map((w) => ({ name: w.name, shape: w.shape })), files, savedAt: new Date().toISOString(),
  };
  const tmp = join(dir, `metadata.json.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify(meta)}\n`);
  await rename(tmp, join(dir, 'metadata.json'));
}

/** Reads a model written by `writeNeuralRecommender`. Throws ModelFormatError or ModelVersionError. */
export async function readNeuralRecommender(dir: string): Promise<SavedNeuralRecommender> {
  const metaPath = join(dir, 'metadata.json');
  let meta: Metadata;
  try {
    meta = JSON.parse(await readFile(metaPath, 'utf8')) as Metadata;
  } catch (err) {
    throw new ModelFormatError(metaPath, 'cannot read the model metadata as JSON (is this a saved neural recommender folder?)', { cause: err });
  }
  if (typeof meta !== 'object' || meta === null || meta.format !== NEURAL_RECOMMENDER_FORMAT) {
    throw new ModelFormatError(metaPath, `not a neural recommender (format is ${JSON.stringify((meta as Partial<Metadata> | null)?.format)}, expected "${NEURAL_RECOMMENDER_FORMAT}")`);
  }
  if (!Number.isInteger(meta.version) || meta.version < 1) throw new ModelFormatError(metaPath, `invalid format version ${JSON.stringify(meta.version)}`);
  if (meta.version > NEURAL_RECOMMENDER_VERSION) throw new ModelVersionError(metaPath, meta.version, NEURAL_RECOMMENDER_VERSION);
  const { rank, numUsers, numItems, numFeatures } = meta;
  for (const [k, v] of Object.entries({ rank, numUsers, numItems, numFeatures })) {
    if (!Number.isInteger(v) || v < 0) throw new ModelFormatError(metaPath, `invalid ${k} ${JSON.stringify(v)}`);
  }
  if (!Array.isArray(meta.weightShapes)) throw new ModelFormatError(metaPath, 'lists no weight shapes');
  const expected: Record<ArrayKey, number> = {
    userIds: numUsers * 8, userFactors: numUsers * rank * 4, itemIds: numItems * 8, itemFactors: numItems * rank * 4, itemSlots: numItems * 4,
    featureMean: numFeatures * 4, featureStd: numFeatures * 4, weights: meta.weightShapes.reduce((s, w) => s + sizeOf(w.shape), 0) * 4,
  };
  const read = async (key: ArrayKey): Promise<ArrayBuffer> => {
    const path = join(dir, FILES[key]);
    const entry = meta.files?.[FILES[key]];
    if (!entry) throw new ModelFormatError(metaPath, `lists no file ${FILES[key]}`);
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (err) {
      throw new ModelFormatError(path, 'missing model file', { cause: err });
    }
    if (buf.byteLength !== entry.bytes || buf.byteLength !== expected[key]) {
      throw new ModelFormatError(path, `has ${buf.byteLength} bytes, expected ${expected[key]} (the file is truncated or corrupt)`);
    }
    if (sha256(buf) !== entry.sha256) throw new ModelFormatError(path, 'checksum mismatch (the file is corrupt)');
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  };
  const flat = new Float32Array(await read('weights'));
  let at = 0;
  const weights = meta.weightShapes.map((w) => {
    const n = sizeOf(w.shape);
    const data = flat.slice(at, at + n);
    at += n;
    return { name: w.name, shape: w.shape, data };
  });
  return {
    rank, numFeatures, params: meta.params ?? {}, history: meta.history ?? { loss: [] }, modelJSON: meta.modelJSON, weights,
    userIds: new Float64Array(await read('userIds')), userFactors: new Float32Array(await read('userFactors')),
    itemIds: new Float64Array(await read('itemIds')), itemFactors: new Float32Array(await read('itemFactors')),
    itemSlots: new Int32Array(await read('itemSlots')), featureMean: new Float32Array(await read('featureMean')),
    featureStd: new Float32Array(await read('featureStd')),
  };
}
