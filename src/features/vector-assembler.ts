/**
 * VectorAssembler: numeric scalars and list/vector columns concatenated into one FixedSizeList<Float32>.
 * Slot counts of list columns come from the first non-null row at fit time; a row whose list has
 * another length, or a null/NaN input, follows `handleInvalid` ('error' throws, 'skip' drops the
 * row, 'keep' writes NaN).
 */
import type * as arrow from 'apache-arrow';
import { col, type Dataset } from '../data/index.js';
import { fixedFloat32ListVector, keepRows, kindOf, readNumberLists, readNumbers, setColumns, vectorOf } from './columns.js';
import { cNumbers, cOneOf, cString, cStrings } from './config.js';
import { InvalidValueError } from './errors.js';
import { FeatureModel, registerFeatureModel, type Featurizer, type StageConfig } from './featurizer.js';
import { checkColumns } from './fit-stats.js';
import { columnList, oneOf, type HandleInvalid } from './options.js';

export interface VectorAssemblerOptions {
  readonly inputCols: readonly string[];
  /** @default 'features' */
  readonly outputCol?: string;
  /** @default 'error' */
  readonly handleInvalid?: HandleInvalid;
}

export class VectorAssembler implements Featurizer<VectorAssemblerModel> {
  static readonly className = 'VectorAssembler';
  readonly className = VectorAssembler.className;
  readonly inputCols: string[];
  readonly handleInvalid: HandleInvalid;
  constructor(private readonly options: VectorAssemblerOptions) {
    this.inputCols = columnList(this.className, 'inputCols', options.inputCols);
    this.handleInvalid = oneOf(this.className, 'handleInvalid', options.handleInvalid, ['error', 'skip', 'keep'] as const, 'error');
  }
  async fit(dataset: Dataset): Promise<VectorAssemblerModel> {
    const schema = await checkColumns(dataset, this.inputCols, this.className, ['numeric', 'bool', 'list']);
    const sizes: number[] = [];
    for (const c of this.inputCols) {
      const f = schema.fields.find((x) => x.name === c)!;
      if (kindOf(f.type) !== 'list') sizes.push(1);
      else {
        const [row] = await dataset.filter(col(c).isNotNull()).select(c).take(1);
        const v = row?.[c];
        sizes.push(Array.isArray(v) ? v.length : 0);
      }
    }
    return new VectorAssemblerModel(this.inputCols, this.options.outputCol ?? 'features', sizes, this.handleInvalid);
  }
}

export class VectorAssemblerModel extends FeatureModel {
  readonly className = 'VectorAssemblerModel';
  readonly size: number;
  constructor(
    readonly inputCols: readonly string[],
    readonly outputCol: string,
    readonly sizes: readonly number[],
    readonly handleInvalid: HandleInvalid,
  ) {
    super();
    this.size = sizes.reduce((a, b) => a + b, 0);
  }
  transformTable(table: arrow.Table): arrow.Table {
    const n = table.numRows;
    const w = this.size;
    const out = new Float32Array(n * w);
    const keep = new Uint8Array(n).fill(1);
    let offset = 0;
    this.inputCols.forEach((c, k) => {
      const vec = vectorOf(table, c);
      const size = this.sizes[k]!;
      const bad = (i: number, value: unknown): void => {
        if (this.handleInvalid === 'error') throw new InvalidValueError(`null, NaN or a vector of the wrong length (expected ${size}) (handleInvalid is "error")`, { stage: this.className, column: c, value });
        if (this.handleInvalid === 'skip') keep[i] = 0;
        for (let j = 0; j < size; j++) out[i * w + offset + j] = NaN;
      };
      if (kindOf(vec.type) === 'list') {
        readNumberLists(vec).forEach((r, i) => {
          if (r === null || r.length !== size || r.some((x) => Number.isNaN(x))) bad(i, r === null ? null : Array.from(r));
          else for (let j = 0; j < size; j++) out[i * w + offset + j] = r[j]!;
        });
      } else {
        const { values } = readNumbers(vec);
        for (let i = 0; i < n; i++) {
          if (Number.isNaN(values[i])) bad(i, null);
          else out[i * w + offset] = values[i]!;
        }
      }
      offset += size;
    });
    return keepRows(setColumns(table, [[this.outputCol, fixedFloat32ListVector(out, w, n)]]), keep);
  }
  getConfig(): StageConfig {
    return { inputCols: this.inputCols, outputCol: this.outputCol, sizes: this.sizes, handleInvalid: this.handleInvalid };
  }
}
registerFeatureModel('VectorAssemblerModel', (c) => new VectorAssemblerModel(cStrings(c, 'inputCols'), cString(c, 'outputCol'), cNumbers(c, 'sizes'), cOneOf(c, 'handleInvalid', ['error', 'skip', 'keep'] as const)));
