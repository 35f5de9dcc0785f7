/**
 * Typed artifact references: what steps pass each other. A step's output is stored once, in the
 * platform store, as artifacts of the step's run (content-addressed by sha256); downstream steps get
 * a small reference — kind, URI, sha256 — never the bytes, and read the content when they need it.
 * The sha256 is the artifact's content version: the cache key of a consuming step is built from it,
 * so a step re-run that yields the same bytes does not invalidate anything downstream.
 */
import { createHash } from 'node:crypto';

/** What an artifact is: a dataset version, a model (a folder of JSON + tensors), metrics, or one file. */
export type ArtifactKind = 'dataset' | 'model' | 'metrics' | 'file';

/** A reference to an artifact in the platform store. Plain data: it is stored as JSON and travels to tasks. */
export interface ArtifactRef<K extends ArtifactKind = ArtifactKind> {
  readonly artifact: K;
  /** `runs:/<step run id>/outputs/<name>` (a dataset used from the store: `dataset:<version id>`). */
  readonly uri: string;
  /** Content version: the file's sha256; for a folder (model, dataset) the sha256 of its files' digests. */
  readonly sha256: string;
  /** Total size in bytes. */
  readonly bytes: number;
  /** A dataset's version id in the store (`name@digest`). */
  readonly datasetVersion?: string | undefined;
}

export type FileArtifact = ArtifactRef<'file'>;
export type ModelArtifact = ArtifactRef<'model'>;
export type MetricsArtifact = ArtifactRef<'metrics'>;
export type DatasetArtifact = ArtifactRef<'dataset'>;

const KINDS: ReadonlySet<string> = new Set<ArtifactKind>(['dataset', 'model', 'metrics', 'file']);

/** True when `v` is an {@link ArtifactRef}. */
export function isArtifactRef(v: unknown): v is ArtifactRef {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.artifact === 'string' && KINDS.has(r.artifact) && typeof r.uri === 'string' && typeof r.sha256 === 'string' && typeof r.bytes === 'number';
}

/** sha256 of a folder: of its files' `path\0sha256\0bytes` lines, sorted by path. */
export function folderDigest(files: ReadonlyArray<{ path: string; sha256: string; bytes: number }>): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return sha256Text(sorted.map((f) => `${f.path}\0${f.sha256}\0${f.bytes}`).join('\n'));
}

export const sha256Text = (s: string): string => createHash('sha256').update(s).digest('hex');

/** `runs:/<id>/<path>` → its parts, or undefined for another URI. */
export function parseRunsUri(uri: string): { runId: string; path: string } | undefined {
  const m = /^runs:\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { runId: m[1]!, path: m[2]! } : undefined;
}

/**
 * JSON with object keys sorted, so equal values give equal text (and equal cache keys). Refuses
 * what JSON cannot hold faithfully (functions, symbols, bigint, NaN, class instances other than
 * Date and typed arrays are not plain data): `where` names the value in the message.
 */
export function canonicalJson(value: unknown, where: string): string {
  return JSON.stringify(canonical(value, where));
}

function canonical(v: unknown, where: string): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`${where} is ${v}, which JSON cannot hold`);
    return v;
  }
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map((x, i) => canonical(x, `${where}[${i}]`));
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`${where} is a ${(v as object).constructor?.name ?? 'class instance'}; pass plain data (objects, arrays, strings, numbers, booleans) or save it as an artifact`);
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x, `${where}.${k}`);
    }
    return out;
  }
  throw new TypeError(`${where} is a ${typeof v}; pass plain data or save it as an artifact`);
}

/**
 * The content version of a step input: an artifact's kind and sha256 (not its URI — the same bytes
 * made by another run are the same input), anything else its canonical JSON.
 */
export function contentVersion(value: unknown): unknown {
  if (isArtifactRef(value)) return { artifact: value.artifact, sha256: value.sha256 };
  if (Array.isArray(value)) return value.map(contentVersion);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = contentVersion(v);
    return out;
  }
  return value;
}

/** Every artifact reference inside `value` (outputs may hold lists and records of them). */
export function artifactsIn(value: unknown, out: ArtifactRef[] = []): ArtifactRef[] {
  if (isArtifactRef(value)) out.push(value);
  else if (Array.isArray(value)) for (const v of value) artifactsIn(v, out);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) artifactsIn(v, out);
  return out;
}
