/**
 * Models as the store keeps them: a JSON description (`MLmodel.json`: format, flavor, the flavor's
 * own JSON metadata, the input/output signature, and each tensor's dtype, length and file) beside
 * one little-endian binary file per tensor, all content-addressed artifacts of a run. Loading one
 * parses JSON and makes typed arrays of an allow-listed dtype — it runs no code of the model's
 * (unlike a pickle: MLflow's CVE-2024-37052). A layer that owns a model class (train's ALS, the
 * neural recommender) turns its model into a {@link ModelContents} and back.
 */
import { ModelFormatInvalidError } from './errors.js';
import { checkArtifactPath } from './names.js';
import type { ModelSignature } from './store-types.js';

export const STORED_MODEL_FORMAT = 'shoal.model';
export const STORED_MODEL_VERSION = 1;
/** Name of the description file inside a model's artifact folder. */
export const MODEL_FILE = 'MLmodel.json';

const DTYPES = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, uint32: Uint32Array, int16: Int16Array, uint16: Uint16Array, int8: Int8Array, uint8: Uint8Array,
} as const;
export type TensorDtype = keyof typeof DTYPES;
export type Tensor = Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/** What a model is made of, to store it. */
export interface ModelContents {
  /** Who reads it back: `als`, `neural-recommender`, ... */
  flavor: string;
  /** The flavor's metadata (JSON). */
  meta?: unknown;
  /** Named numeric arrays (names are plain: letters, digits, `._-`). */
  tensors?: Readonly<Record<string, Tensor>> | undefined;
  /** Other files (JSON, text) by plain name. */
  files?: Readonly<Record<string, Uint8Array | string>> | undefined;
  signature?: ModelSignature | undefined;
}

/** A model loaded from the store. */
export interface StoredModel extends Required<Omit<ModelContents, 'signature'>> {
  uri: string;
  signature: ModelSignature | null;
  tensors: Record<string, Tensor>;
  files: Record<string, Uint8Array>;
  /** The run and artifact path it was read from. */
  runId: string;
  path: string;
}

interface TensorEntry {
  dtype: TensorDtype;
  length: number;
  file: string;
}

interface Description {
  format: string;
  version: number;
  flavor: string;
  meta: unknown;
  signature: ModelSignature | null;
  tensors: Record<string, TensorEntry>;
  files: string[];
}

const dtypeOf = (t: Tensor): TensorDtype => {
  for (const [name, C] of Object.entries(DTYPES)) if (t instanceof C) return name as TensorDtype;
  throw new ModelFormatInvalidError('model', `tensor of type ${Object.prototype.toString.call(t)} is not one of ${Object.keys(DTYPES).join(', ')}`);
};

/** The artifact files (relative to the model's folder `path`) that store `m`. */
export function encodeModel(path: string, m: ModelContents): Record<string, Uint8Array | string> {
  checkArtifactPath(path);
  const out: Record<string, Uint8Array | string> = {};
  const tensors: Record<string, TensorEntry> = {};
  for (const [name, t] of Object.entries(m.tensors ?? {})) {
    const file = `tensors/${name}.bin`;
    checkArtifactPath(file);
    tensors[name] = { dtype: dtypeOf(t), length: t.length, file };
    out[`${path}/${file}`] = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
  }
  const files = Object.keys(m.files ?? {});
  for (const name of files) {
    checkArtifactPath(`files/${name}`);
    out[`${path}/files/${name}`] = m.files![name]!;
  }
  const description: Description = {
    format: STORED_MODEL_FORMAT, version: STORED_MODEL_VERSION, flavor: m.flavor, meta: m.meta ?? null, signature: m.signature ?? null, tensors, files,
  };
  out[`${path}/${MODEL_FILE}`] = JSON.stringify(description, null, 1);
  return out;
}

/** Parses and checks a model description; `read` gives the verified bytes of a file of the model's folder. */
export async function decodeModel(uri: string, runId: string, path: string, read: (file: string) => Promise<Uint8Array>): Promise<StoredModel> {
  const bad = (detail: string): never => {
    throw new ModelFormatInvalidError(uri, detail);
  };
  let d: Description;
  try {
    d = JSON.parse(new TextDecoder().decode(await read(MODEL_FILE))) as Description;
  } catch (err) {
    if (err instanceof SyntaxError) return bad(`${MODEL_FILE} is not valid JSON`);
    throw err;
  }
  if (typeof d !== 'object' || d === null || d.format !== STORED_MODEL_FORMAT) return bad(`not a stored model (format ${JSON.stringify((d as { format?: unknown } | null)?.format)})`);
  if (d.version !== STORED_MODEL_VERSION) return bad(`stored model version ${String(d.version)}: this shoal reads version ${STORED_MODEL_VERSION}`);
  if (typeof d.flavor !== 'string') return bad('flavor must be a string');
  const tensors: Record<string, Tensor> = {};
  for (const [name, e] of Object.entries(d.tensors ?? {})) {
    const C = Object.hasOwn(DTYPES, e.dtype) ? DTYPES[e.dtype] : bad(`tensor ${name} has dtype ${JSON.stringify(e.dtype)}, not one of ${Object.keys(DTYPES).join(', ')}`);
    const bytes = await read(checkArtifactPath(e.file));
    if (!Number.isInteger(e.length) || bytes.byteLength !== e.length * C.BYTES_PER_ELEMENT) bad(`tensor ${name}: ${bytes.byteLength} bytes do not hold ${String(e.length)} ${e.dtype}`);
    // A view when the bytes are aligned for the dtype (a file read whole is), else an aligned copy.
    tensors[name] = bytes.byteOffset % C.BYTES_PER_ELEMENT === 0
      ? new C(bytes.buffer as ArrayBuffer, bytes.byteOffset, e.length)
      : new C(bytes.slice().buffer);
  }
  const files: Record<string, Uint8Array> = {};
  for (const name of d.files ?? []) files[name] = await read(checkArtifactPath(`files/${name}`));
  return { uri, runId, path, flavor: d.flavor, meta: d.meta, signature: d.signature ?? null, tensors, files };
}
