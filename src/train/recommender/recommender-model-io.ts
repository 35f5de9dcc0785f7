/**
 * The on-disk form of a neural recommender: `metadata.json` (format, version, sizes, parameters,
 * the network's topology JSON, weight shapes, and each binary file's byte length and SHA-256)
 * beside little-endian arrays — the user and item ids and vectors the model ranks with, the item
 * id slots, the feature standardization, and the network's weights (to score new items by their
 * features). A checksummed artifact folder (src/store): written whole or not at all, every length
 * and digest checked on load.
 */
import { bytesOf, readArtifactFolder, writeArtifactFolder, type ArtifactFileEntry, type SaveOptions } from '../../store/index.js';
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
  files: Record<string, ArtifactFileEntry>;
  savedAt: string;
}

const corrupt = (path: string, detail: string, cause?: unknown): ModelFormatError => new ModelFormatError(path, detail, { cause });
const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Writes the model to `dir`; throws `ArtifactExistsError` when `dir` holds something, unless `options.overwrite`. */
export async function writeNeuralRecommender(dir: string, m: SavedNeuralRecommender, options: SaveOptions = {}): Promise<void> {
  const flat = new Float32Array(m.weights.reduce((s, w) => s + w.data.length, 0));
  let at = 0;
  for (const w of m.weights) {
    flat.set(w.data, at);
    at += w.data.length;
  }
  const arrays: Record<ArrayKey, ArrayBufferView> = { ...m, weights: flat };
  const files: Record<string, Uint8Array> = {};
  for (const key of Object.keys(FILES) as ArrayKey[]) files[FILES[key]] = bytesOf(arrays[key]);
  await writeArtifactFolder(dir, {
    files,
    manifestName: 'metadata.json',
    manifest: (entries): Metadata => ({
      format: NEURAL_RECOMMENDER_FORMAT, version: NEURAL_RECOMMENDER_VERSION, rank: m.rank, numUsers: m.userIds.length, numItems: m.itemIds.length,
      numFeatures: m.numFeatures, params: m.params, history: m.history, modelJSON: m.modelJSON,
      weightShapes: m.weights.map((w) => ({ name: w.name, shape: w.shape })), files: entries, savedAt: new Date().toISOString(),
    }),
  }, options);
}

/** Reads a model written by `writeNeuralRecommender`. Throws ModelFormatError or ModelVersionError. */
export async function readNeuralRecommender(dir: string): Promise<SavedNeuralRecommender> {
  const folder = await readArtifactFolder(dir, { manifestName: 'metadata.json', what: 'a saved neural recommender', corrupt });
  const metaPath = folder.manifestPath;
  const meta = folder.manifest as Metadata;
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
  const read = (key: ArrayKey): Promise<ArrayBuffer> => folder.read(FILES[key], { expectedBytes: expected[key] });
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
