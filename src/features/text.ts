/**
 * Listing text and hashed features: Tokenizer → HashingTF → IDF, and FeatureHasher. Vectors are dense
 * List<Float32> of `numFeatures` (keep it modest: every row stores all slots). Null text → empty token
 * list → zero vector; null FeatureHasher inputs contribute nothing.
 */
import * as arrow from 'apache-arrow';
import { agg, fnv1a32, type Dataset } from '../data/index.js';
import { float32ListVector, kindOf, plain, readNumberLists, setColumns, stringListVector, vectorOf } from './columns.js';
import { cBool, cFloat64, cNumber, cString, cStrings } from './config.js';
import { mapWithPayload } from './distributed.js';
import { FeatureModel, registerFeatureModel, type Featurizer, type StageConfig } from './featurizer.js';
import { checkColumns, requireRows } from './fit-stats.js';
import { nonNegative, positiveInt } from './options.js';

export interface TokenizerOptions {
  readonly inputCol: string;
  /** @default `${inputCol}_tokens` */
  readonly outputCol?: string;
  /** Splitting regular expression source. @default '[^\\p{L}\\p{N}]+' (unicode letters and digits form tokens) */
  readonly pattern?: string;
  /** @default true */
  readonly lowercase?: boolean;
  /** @default 1 */
  readonly minTokenLength?: number;
}

export class TokenizerModel extends FeatureModel {
  readonly className = 'Tokenizer';
  private readonly re: RegExp;
  constructor(
    readonly inputCol: string,
    readonly outputCol: string,
    readonly pattern: string,
    readonly lowercase: boolean,
    readonly minTokenLength: number,
  ) {
    super();
    this.re = new RegExp(pattern, 'u');
  }
  tokenize(text: string | null): string[] {
    if (text === null) return [];
    const t = this.lowercase ? text.toLowerCase() : text;
    return t.split(this.re).filter((w) => w.length >= this.minTokenLength);
  }
  transformTable(table: arrow.Table): arrow.Table {
    const rows: string[][] = [];
    for (const v of vectorOf(table, this.inputCol)) rows.push(this.tokenize(v === null || v === undefined ? null : String(v)));
    return setColumns(table, [[this.outputCol, stringListVector(rows)]]);
  }
  getConfig(): StageConfig {
    return { inputCol: this.inputCol, outputCol: this.outputCol, pattern: this.pattern, lowercase: this.lowercase, minTokenLength: this.minTokenLength };
  }
}
registerFeatureModel('Tokenizer', (c) => new TokenizerModel(cString(c, 'inputCol'), cString(c, 'outputCol'), cString(c, 'pattern'), cBool(c, 'lowercase'), cNumber(c, 'minTokenLength')));

export class Tokenizer implements Featurizer<TokenizerModel> {
  static readonly className = 'Tokenizer';
  readonly className = Tokenizer.className;
  readonly model: TokenizerModel;
  constructor(o: TokenizerOptions) {
    this.model = new TokenizerModel(o.inputCol, o.outputCol ?? `${o.inputCol}_tokens`, o.pattern ?? '[^\\p{L}\\p{N}]+', o.lowercase ?? true, positiveInt('Tokenizer', 'minTokenLength', o.minTokenLength, 1));
  }
  async fit(dataset: Dataset): Promise<TokenizerModel> {
    await checkColumns(dataset, [this.model.inputCol], this.className, ['string']);
    return this.model;
  }
}

export interface HashingTFOptions {
  /** A List<Utf8> column (Tokenizer output). */
  readonly inputCol: string;
  /** @default `${inputCol}_tf` */
  readonly outputCol?: string;
  /** @default 256 */
  readonly numFeatures?: number;
  /** Presence (1) instead of counts. @default false */
  readonly binary?: boolean;
}

export class HashingTFModel extends FeatureModel {
  readonly className = 'HashingTF';
  constructor(
    readonly inputCol: string,
    readonly outputCol: string,
    readonly numFeatures: number,
    readonly binary: boolean,
  ) {
    super();
  }
  transformTable(table: arrow.Table): arrow.Table {
    const vec = vectorOf(table, this.inputCol);
    const w = this.numFeatures;
    const out = new Float32Array(vec.length * w);
    let r = 0;
    for (const v of vec) {
      const terms = v === null || v === undefined ? [] : (plain(v) as unknown[]);
      for (const t of terms) {
        if (t === null) continue;
        const j = r * w + (fnv1a32(String(t)) % w);
        out[j] = this.binary ? 1 : out[j]! + 1;
      }
      r++;
    }
    return setColumns(table, [[this.outputCol, float32ListVector(out, w, vec.length)]]);
  }
  getConfig(): StageConfig {
    return { inputCol: this.inputCol, outputCol: this.outputCol, numFeatures: this.numFeatures, binary: this.binary };
  }
}
registerFeatureModel('HashingTF', (c) => new HashingTFModel(cString(c, 'inputCol'), cString(c, 'outputCol'), cNumber(c, 'numFeatures'), cBool(c, 'binary')));

export class HashingTF implements Featurizer<HashingTFModel> {
  static readonly className = 'HashingTF';
  readonly className = HashingTF.className;
  readonly model: HashingTFModel;
  constructor(o: HashingTFOptions) {
    this.model = new HashingTFModel(o.inputCol, o.outputCol ?? `${o.inputCol}_tf`, positiveInt('HashingTF', 'numFeatures', o.numFeatures, 256), o.binary ?? false);
  }
  async fit(dataset: Dataset): Promise<HashingTFModel> {
    await checkColumns(dataset, [this.model.inputCol], this.className, ['list']);
    return this.model;
  }
}

/** Per-partition document frequencies of a vector column: rows (term, df); term -1 counts documents. */
export function docFreqPartition(table: arrow.Table, column: string): arrow.Table {
  const rows = readNumberLists(vectorOf(table, column));
  const df = new Map<number, number>();
  let docs = 0;
  for (const r of rows) {
    if (r === null) continue;
    docs++;
    for (let j = 0; j < r.length; j++) if (r[j]! > 0) df.set(j, (df.get(j) ?? 0) + 1);
  }
  df.set(-1, docs);
  return new arrow.Table({
    term: arrow.vectorFromArray([...df.keys()], new arrow.Int32()),
    df: arrow.vectorFromArray([...df.values()], new arrow.Float64()),
  });
}

export interface IDFOptions {
  /** A vector column (HashingTF output). */
  readonly inputCol: string;
  /** @default `${inputCol}_idf` */
  readonly outputCol?: string;
  /** Terms in fewer documents get weight 0. @default 0 */
  readonly minDocFreq?: number;
}

/** idf(t) = ln((m + 1) / (df(t) + 1)) over m documents (Spark's formula); output = tf · idf. */
export class IDF implements Featurizer<IDFModel> {
  static readonly className = 'IDF';
  readonly className = IDF.className;
  readonly minDocFreq: number;
  readonly inputCol: string;
  constructor(private readonly options: IDFOptions) {
    this.inputCol = options.inputCol;
    this.minDocFreq = nonNegative(this.className, 'minDocFreq', options.minDocFreq, 0);
  }
  async fit(dataset: Dataset): Promise<IDFModel> {
    const c = this.options.inputCol;
    await checkColumns(dataset, [c], this.className, ['list']);
    // Partials per partition, merged by a distributed groupBy(term).sum(df).
    const t = await mapWithPayload(dataset.select(c), { kind: 'docFreq', column: c }).groupBy('term').agg(agg.sum('df', 'df')).collect();
    const terms = t.getChild('term')!;
    const dfs = t.getChild('df')!;
    const df = new Map<number, number>();
    for (let i = 0; i < t.numRows; i++) df.set(Number(terms.get(i)), Number(dfs.get(i)));
    const m = df.get(-1) ?? 0;
    requireRows(m, this.className, c);
    const width = Math.max(0, ...[...df.keys()]) + 1;
    const idf = new Float64Array(width);
    for (let j = 0; j < width; j++) {
      const d = df.get(j) ?? 0;
      idf[j] = d < this.minDocFreq ? 0 : Math.log((m + 1) / (d + 1));
    }
    return new IDFModel(c, this.options.outputCol ?? `${c}_idf`, idf);
  }
}

export class IDFModel extends FeatureModel {
  readonly className = 'IDFModel';
  constructor(
    readonly inputCol: string,
    readonly outputCol: string,
    readonly idf: Float64Array,
  ) {
    super();
  }
  transformTable(table: arrow.Table): arrow.Table {
    const rows = readNumberLists(vectorOf(table, this.inputCol));
    const w = rows.find((r) => r !== null)?.length ?? this.idf.length;
    const out = new Float32Array(rows.length * w);
    rows.forEach((r, i) => {
      if (r !== null) for (let j = 0; j < Math.min(w, r.length); j++) out[i * w + j] = r[j]! * (this.idf[j] ?? 0);
    });
    return setColumns(table, [[this.outputCol, float32ListVector(out, w, rows.length)]]);
  }
  getConfig(): StageConfig {
    return { inputCol: this.inputCol, outputCol: this.outputCol, idf: this.idf };
  }
}
registerFeatureModel('IDFModel', (c) => new IDFModel(cString(c, 'inputCol'), cString(c, 'outputCol'), cFloat64(c, 'idf')));

export interface FeatureHasherOptions {
  readonly inputCols: readonly string[];
  /** @default 'features' */
  readonly outputCol?: string;
  /** @default 256 */
  readonly numFeatures?: number;
}

/**
 * Hashing trick over mixed columns: a numeric column adds its value at slot hash(name); a string or
 * boolean column adds 1 at slot hash(`name=value`).
 */
export class FeatureHasherModel extends FeatureModel {
  readonly className = 'FeatureHasher';
  constructor(
    readonly inputCols: readonly string[],
    readonly outputCol: string,
    readonly numFeatures: number,
  ) {
    super();
  }
  transformTable(table: arrow.Table): arrow.Table {
    const n = table.numRows;
    const w = this.numFeatures;
    const out = new Float32Array(n * w);
    for (const c of this.inputCols) {
      const vec = vectorOf(table, c);
      const numeric = kindOf(vec.type) === 'numeric';
      const slot = fnv1a32(c) % w;
      let i = 0;
      for (const raw of vec) {
        const v = plain(raw);
        if (v !== null && v !== undefined) {
          if (numeric) out[i * w + slot]! += Number(v);
          else out[i * w + (fnv1a32(`${c}=${String(v)}`) % w)]! += 1;
        }
        i++;
      }
    }
    return setColumns(table, [[this.outputCol, float32ListVector(out, w, n)]]);
  }
  getConfig(): StageConfig {
    return { inputCols: this.inputCols, outputCol: this.outputCol, numFeatures: this.numFeatures };
  }
}
registerFeatureModel('FeatureHasher', (c) => new FeatureHasherModel(cStrings(c, 'inputCols'), cString(c, 'outputCol'), cNumber(c, 'numFeatures')));

export class FeatureHasher implements Featurizer<FeatureHasherModel> {
  static readonly className = 'FeatureHasher';
  readonly className = FeatureHasher.className;
  readonly model: FeatureHasherModel;
  constructor(o: FeatureHasherOptions) {
    this.model = new FeatureHasherModel([...o.inputCols], o.outputCol ?? 'features', positiveInt('FeatureHasher', 'numFeatures', o.numFeatures, 256));
  }
  async fit(dataset: Dataset): Promise<FeatureHasherModel> {
    await checkColumns(dataset, this.model.inputCols, this.className, ['numeric', 'string', 'bool']);
    return this.model;
  }
}
