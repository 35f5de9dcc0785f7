/**
 * Pipelines: stages fitted in order (each on the output of the previous fitted stages), applied as
 * one per-partition task on the cluster, or in-process at serving time through the same kernels.
 *
 * Saved layout (`save(dir)`): `pipeline.json` — `{ format: 'shoal-feature-pipeline', version,
 * shoalVersion, stages: [{ className, config }], arrays: { file, bytes, sha256 } }` — where every
 * Float64Array/Float32Array in a config is replaced by `{ $array: { dtype, offset, length } }` into
 * `arrays.bin` (little-endian) — a checksummed artifact folder (src/store), written whole or not at
 * all. `load(dir)` rejects newer versions (PipelineVersionError) and any
 * unreadable part — bad JSON, missing fields, checksum mismatch, an invalid stage config — with a
 * CorruptedPipelineError naming the stage.
 */
import * as arrow from 'apache-arrow';
import { SHOAL_VERSION } from '../core/index.js';
import type { Dataset } from '../data/index.js';
import { readArtifactFolder, writeArtifactFolder, type SaveOptions } from '../store/index.js';
import './all-models.js';
import { applyStages } from './distributed.js';
import { CorruptedPipelineError, FeatureError, invalidOption, PipelineVersionError } from './errors.js';
import { isFeatureModel, isFeaturizer, modelFromJSON, rowsToTable, tableToRows, type FeatureModel, type FeatureRow, type Featurizer, type SavedStage, type StageConfig } from './featurizer.js';

/** Version of the saved pipeline format this shoal writes and the newest it reads. */
export const PIPELINE_FORMAT_VERSION = 1;
export const PIPELINE_FORMAT = 'shoal-feature-pipeline';
const MANIFEST = 'pipeline.json';
const ARRAYS = 'arrays.bin';

/** An unfitted sequence of featurizers (fitted models may appear too; they are kept as they are). */
export class Pipeline {
  readonly stages: readonly (Featurizer | FeatureModel)[];
  constructor(stages: readonly (Featurizer | FeatureModel)[]) {
    stages.forEach((s, i) => {
      if (!isFeaturizer(s) && !isFeatureModel(s)) throw invalidOption(`stages[${i}]`, 'must be a featurizer (with fit) or a fitted feature model', { stage: 'Pipeline' });
    });
    if (stages.length === 0) throw invalidOption('stages', 'must not be empty', { stage: 'Pipeline' });
    this.stages = [...stages];
  }

  /**
   * Fits every stage in order on the cluster. With more than one stage to fit, the input is cached for
   * the fit (read once, its partitions kept in the object store) and released at the end.
   */
  async fit(dataset: Dataset): Promise<PipelineModel> {
    // Stage k is fitted on the input transformed by the earlier fitted stages it depends on (those
    // producing its input columns, transitively, and any that may drop rows), fused into one task.
    const input = this.stages.filter((s) => !isFeatureModel(s)).length > 1 ? dataset.cache() : dataset;
    const models: FeatureModel[] = [];
    try {
      for (const s of this.stages) {
        if (isFeatureModel(s)) {
          models.push(s);
          continue;
        }
        const needed = neededStages(models, featurizerInputs(s));
        const current = needed.length === 0 ? input : applyStages(input, needed.map((m) => m.toJSON()));
        models.push(await s.fit(current));
      }
    } finally {
      if (input !== dataset) input.unpersist();
    }
    return new PipelineModel(models);
  }
}

function strings(v: unknown): string[] | null {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return null;
}

/** Input columns a featurizer reads (null when unknown: it then depends on every earlier stage). */
export function featurizerInputs(f: Featurizer): string[] | null {
  const o = f as unknown as { inputColumns?: unknown; inputCols?: unknown; inputCol?: unknown; targetCol?: unknown; model?: { inputCols?: unknown; inputCol?: unknown } };
  const direct = strings(o.inputColumns) ?? strings(o.inputCols) ?? strings(o.inputCol) ?? strings(o.model?.inputCols) ?? strings(o.model?.inputCol);
  if (direct === null) return null;
  return [...direct, ...(strings(o.targetCol) ?? [])];
}

function modelColumns(m: FeatureModel): { inputs: string[] | null; outputs: string[] | null; dropsRows: boolean } {
  const c = m.getConfig();
  const inputs = strings(c['inputCols']) ?? strings(c['inputCol']);
  let outputs = strings(c['outputCols']) ?? strings(c['outputCol']);
  if (outputs === null && typeof c['prefix'] === 'string') outputs = (strings(c['features']) ?? []).map((f) => `${c['prefix'] as string}${f}`);
  return { inputs, outputs, dropsRows: c['handleInvalid'] === 'skip' };
}

/** The fitted stages (in order) whose outputs a stage reading `inputs` depends on. */
function neededStages(models: readonly FeatureModel[], inputs: string[] | null): FeatureModel[] {
  if (inputs === null) return [...models];
  const needed = new Set(inputs);
  const keep: FeatureModel[] = [];
  for (let j = models.length - 1; j >= 0; j--) {
    const m = models[j]!;
    const cols = modelColumns(m);
    if (cols.dropsRows || cols.outputs === null || cols.outputs.some((o) => needed.has(o))) {
      if (cols.inputs === null) return models.slice(0, j + 1);
      keep.unshift(m);
      for (const c of cols.inputs) needed.add(c);
    }
  }
  return keep;
}

/** Fitted stages. */
export class PipelineModel {
  constructor(readonly stages: readonly FeatureModel[]) {}

  /** Distributed transform: all stages in one narrow per-partition task. */
  transform(dataset: Dataset): Dataset {
    return applyStages(dataset, this.stages.map((s) => s.toJSON()));
  }

  /** Serving path (no cluster): table → table, or rows → rows. */
  transformBatch(input: arrow.Table): arrow.Table;
  transformBatch(input: readonly FeatureRow[]): FeatureRow[];
  transformBatch(input: arrow.Table | readonly FeatureRow[]): arrow.Table | FeatureRow[] {
    const table = input instanceof arrow.Table ? input : rowsToTable(input);
    const out = this.stages.reduce((t, m) => m.transformTable(t), table);
    return input instanceof arrow.Table ? out : tableToRows(out);
  }

  /** One record (null when a stage's policy skipped it). */
  transformRow(record: FeatureRow): FeatureRow | null {
    return this.transformBatch([record])[0] ?? null;
  }

  toJSON(): { stages: SavedStage[] } {
    return { stages: this.stages.map((s) => s.toJSON()) };
  }

  /**
   * Writes `pipeline.json` and `arrays.bin` as a checksummed artifact folder `dir`, all at once.
   * Throws `ArtifactExistsError`, writing nothing, when `dir` already holds something, unless
   * `{ overwrite: true }`.
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    const chunks: Buffer[] = [];
    let offset = 0;
    const encode = (v: unknown): unknown => {
      if (v instanceof Float64Array || v instanceof Float32Array) {
        const buf = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
        const pad = (8 - (offset % 8)) % 8;
        if (pad > 0) (chunks.push(Buffer.alloc(pad)), (offset += pad));
        const ref = { $array: { dtype: v instanceof Float64Array ? 'float64' : 'float32', offset, length: v.length } };
        chunks.push(Buffer.from(buf));
        offset += buf.byteLength;
        return ref;
      }
      if (Array.isArray(v)) return v.map(encode);
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
      return v;
    };
    const stages = this.stages.map((s) => ({ className: s.className, config: encode(s.getConfig()) }));
    const bin = Buffer.concat(chunks);
    await writeArtifactFolder(dir, {
      files: { [ARRAYS]: bin },
      manifestName: MANIFEST,
      manifest: (entries) => ({
        format: PIPELINE_FORMAT,
        version: PIPELINE_FORMAT_VERSION,
        shoalVersion: SHOAL_VERSION,
        stages,
        arrays: { file: ARRAYS, ...entries[ARRAYS] },
      }),
    }, options);
  }

  /** Reads a pipeline written by `save`. */
  static async load(dir: string): Promise<PipelineModel> {
    const folder = await readArtifactFolder(dir, {
      manifestName: MANIFEST,
      what: 'a saved feature pipeline',
      corrupt: (at, detail, cause) => new CorruptedPipelineError(at, detail, { cause }),
    });
    const path = folder.manifestPath;
    const manifest = folder.manifest as Record<string, unknown>;
    if (manifest === null || typeof manifest !== 'object' || manifest['format'] !== PIPELINE_FORMAT) throw new CorruptedPipelineError(path, `format must be "${PIPELINE_FORMAT}"`);
    const version = manifest['version'];
    if (typeof version !== 'number' || !Number.isInteger(version)) throw new CorruptedPipelineError(path, 'version must be an integer');
    if (version > PIPELINE_FORMAT_VERSION) throw new PipelineVersionError(path, version, PIPELINE_FORMAT_VERSION);
    const arrays = manifest['arrays'] as { file?: unknown; bytes?: unknown; sha256?: unknown } | undefined;
    if (arrays === undefined || typeof arrays.file !== 'string' || typeof arrays.bytes !== 'number' || typeof arrays.sha256 !== 'string') {
      throw new CorruptedPipelineError(path, 'arrays must name a file, its bytes and its sha256');
    }
    const bin = Buffer.from(await folder.read(arrays.file, { entry: { bytes: arrays.bytes, sha256: arrays.sha256 } }));
    const stages = manifest['stages'];
    if (!Array.isArray(stages) || stages.length === 0) throw new CorruptedPipelineError(path, 'stages must be a non-empty array');
    const models = stages.map((raw: unknown, i) => {
      const s = raw as { className?: unknown; config?: unknown };
      const stageName = `${i}:${typeof s?.className === 'string' ? s.className : '?'}`;
      if (typeof s?.className !== 'string' || s.config === null || typeof s.config !== 'object') throw new CorruptedPipelineError(path, 'a stage needs className and config', { stage: stageName });
      const decode = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(decode);
        if (v !== null && typeof v === 'object') {
          const ref = (v as { $array?: { dtype?: unknown; offset?: unknown; length?: unknown } }).$array;
          if (ref !== undefined) {
            const size = ref.dtype === 'float64' ? 8 : ref.dtype === 'float32' ? 4 : 0;
            const off = Number(ref.offset);
            const len = Number(ref.length);
            if (size === 0 || !Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len * size > bin.byteLength) throw new CorruptedPipelineError(path, 'an array reference is out of range', { stage: stageName });
            const copy = new Uint8Array(bin.subarray(off, off + len * size));
            return size === 8 ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer);
          }
          return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
        }
        return v;
      };
      try {
        return modelFromJSON({ className: s.className, config: decode(s.config) as StageConfig }, stageName);
      } catch (cause) {
        if (cause instanceof CorruptedPipelineError) throw cause;
        if (cause instanceof FeatureError) throw cause;
        throw new CorruptedPipelineError(path, `invalid stage config: ${(cause as Error).message}`, { stage: stageName, cause });
      }
    });
    return new PipelineModel(models);
  }

  /** Rebuilds from `toJSON()` output. */
  static fromJSON(json: { stages: readonly SavedStage[] }): PipelineModel {
    return new PipelineModel(json.stages.map((s, i) => modelFromJSON(s, `${i}:${s.className}`)));
  }
}
