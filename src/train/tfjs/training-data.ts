/**
 * From a table to dense row-major Float32 matrices (features, labels), and the strided sharding
 * that makes data-parallel steps add up to single-process steps: worker w of W gets rows w, w+W,
 * w+2W, … so, unshuffled, the union of the workers' local batches at step s is exactly rows
 * [s·B, (s+1)·B) of the table — the global batch a single process would take.
 */
import type { Table } from 'apache-arrow';
import { InvalidTrainingDataError } from '../errors.js';
import type { TrainingData } from './trainer-options.js';

/** A dense shard: `n` rows of `d` features and `k` labels, row-major. */
export interface DenseShard {
  x: Float32Array;
  y: Float32Array;
  n: number;
  d: number;
  k: number;
}

const isTable = (x: unknown): x is Table =>
  typeof x === 'object' && x !== null && 'schema' in x && typeof (x as Table).getChild === 'function' && typeof (x as Table).numRows === 'number';

/** Resolves an Arrow table, a Dataset (`toArrow()`) or a batch iterator (`iterBatches()`) to one table. */
export async function toTable(data: TrainingData, what: string): Promise<Table> {
  if (isTable(data)) return data;
  if (typeof (data as { toArrow?: unknown }).toArrow === 'function') {
    const t = await (data as { toArrow(): Table | Promise<Table> }).toArrow();
    if (!isTable(t)) throw new InvalidTrainingDataError(`${what}.toArrow() did not return an Arrow Table`);
    return t;
  }
  if (typeof (data as { iterBatches?: unknown }).iterBatches === 'function') {
    const batches: Table[] = [];
    for await (const b of (data as { iterBatches(): AsyncIterable<Table> }).iterBatches()) batches.push(b);
    if (batches.length === 0) throw new InvalidTrainingDataError(`${what}.iterBatches() yielded no batches`);
    const [first, ...rest] = batches as [Table, ...Table[]];
    try {
      return rest.length ? first.concat(...rest) : first;
    } catch (err) {
      throw new InvalidTrainingDataError(`${what}.iterBatches() yielded batches whose schemas differ`, undefined, undefined, { cause: err });
    }
  }
  throw new InvalidTrainingDataError(`${what} must be an Arrow Table, a Dataset, or an object with toArrow() or iterBatches()`);
}

function readColumns(table: Table, cols: readonly string[], into: Float32Array, stride: number, offset: number): void {
  cols.forEach((name, c) => {
    const v = table.getChild(name);
    if (!v) throw new InvalidTrainingDataError(`column '${name}' is not in the data (columns: ${table.schema.fields.map((f) => f.name).join(', ')})`, name);
    for (let r = 0; r < table.numRows; r++) {
      const raw: unknown = v.get(r);
      const x = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'boolean' ? Number(raw) : raw;
      if (typeof x !== 'number' || Number.isNaN(x)) {
        throw new InvalidTrainingDataError(`column '${name}' at row ${r} must be a number (got ${raw === null ? 'null' : typeof raw === 'number' ? 'NaN' : typeof raw})`, name, r);
      }
      into[r * stride + offset + c] = x;
    }
  });
}

/** Reads the feature and label columns into dense row-major matrices. */
export function denseFromTable(table: Table, featureColumns: readonly string[], labelColumns: readonly string[]): DenseShard {
  const n = table.numRows;
  const d = featureColumns.length;
  const k = labelColumns.length;
  const x = new Float32Array(n * d);
  const y = new Float32Array(n * k);
  readColumns(table, featureColumns, x, d, 0);
  readColumns(table, labelColumns, y, k, 0);
  return { x, y, n, d, k };
}

/** Reads the data of epoch `epoch ≥ 1` (`options.epochDataset`), checked against epoch 0's shape. */
export async function epochDense(
  epochDataset: (epoch: number) => TrainingData | Promise<TrainingData>, epoch: number, first: DenseShard,
  featureColumns: readonly string[], labelColumns: readonly string[],
): Promise<DenseShard> {
  const what = `options.epochDataset(${epoch})`;
  let data: TrainingData;
  try {
    data = await epochDataset(epoch);
  } catch (err) {
    throw new InvalidTrainingDataError(`${what} threw: ${(err as Error).message}`, undefined, undefined, { cause: err });
  }
  const dense = denseFromTable(await toTable(data, what), featureColumns, labelColumns);
  if (dense.n !== first.n) {
    throw new InvalidTrainingDataError(`${what} has ${dense.n} rows, options.dataset has ${first.n}: every epoch must have as many rows (the steps per epoch are fixed)`);
  }
  return dense;
}

/** Worker `w` of `W`'s rows: w, w+W, … (the first floor(n/W)·W rows; the remainder is dropped so shards are equal). */
export function stridedShard(all: DenseShard, w: number, numWorkers: number): DenseShard {
  const n = Math.floor(all.n / numWorkers);
  const x = new Float32Array(n * all.d);
  const y = new Float32Array(n * all.k);
  for (let i = 0; i < n; i++) {
    const r = i * numWorkers + w;
    x.set(all.x.subarray(r * all.d, (r + 1) * all.d), i * all.d);
    y.set(all.y.subarray(r * all.k, (r + 1) * all.k), i * all.k);
  }
  return { x, y, n, d: all.d, k: all.k };
}
