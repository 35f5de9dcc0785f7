/** Pure parts of the streaming executor: Arrow buffer sizes, batch planning, execution options. */
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../../src/data/index.js';
import { compileExecutionOptions } from '../../../../src/data/dataset/execution-options.js';
import { partitionSize, planBatches, tableBytes } from '../../../../src/data/dataset/execution/stats-tasks.js';

describe('tableBytes / partitionSize', () => {
  it('sums the Arrow buffers of every column (values, offsets, validity)', () => {
    const t = new arrow.Table({
      a: arrow.makeVector(Float64Array.from({ length: 1000 }, (_, i) => i)),
      s: arrow.vectorFromArray(Array.from({ length: 1000 }, (_, i) => (i % 3 === 1 ? null : 'ab'.repeat(i % 3))), new arrow.Utf8()),
    });
    const a = t.getChild('a')!.data[0]!;
    const s = t.getChild('s')!.data[0]!;
    const expected = a.values.byteLength + s.values.byteLength + s.valueOffsets.byteLength + s.nullBitmap!.byteLength;
    expect(a.values.byteLength).toBe(8000);
    expect(tableBytes(t)).toBe(expected);
    expect(partitionSize(t)).toEqual({ rows: 1000, bytes: expected });
    expect(partitionSize([t, t])).toEqual({ rows: 2000, bytes: 2 * expected });
    expect(partitionSize(7)).toEqual({ rows: 7, bytes: 0 });
  });

  it('counts a buffer shared by two columns once', () => {
    const v = arrow.makeVector(Int32Array.from([1, 2, 3]));
    const t = new arrow.Table({ a: v, b: v });
    expect(tableBytes(t)).toBe(12);
  });
});

describe('planBatches', () => {
  it('cuts consecutive partitions into batches of exactly batchSize rows (the last shorter)', () => {
    const b = planBatches([5, 0, 3, 4], 4);
    expect(b).toEqual([
      [{ partition: 0, start: 0, end: 4 }],
      [
        { partition: 0, start: 4, end: 5 },
        { partition: 2, start: 0, end: 3 },
      ],
      [{ partition: 3, start: 0, end: 4 }],
    ]);
    const sizes = planBatches([10, 7, 1], 3).map((pieces) => pieces.reduce((s, p) => s + p.end - p.start, 0));
    expect(sizes).toEqual([3, 3, 3, 3, 3, 3]);
    expect(planBatches([0, 0], 5)).toEqual([]);
  });
});

describe('memoryBudgetBytes option', () => {
  it('rejects a negative, zero or fractional budget with a typed error naming the option', () => {
    for (const bad of [-1, 0, 1.5, Number.NaN]) {
      expect(() => compileExecutionOptions({ memoryBudgetBytes: bad })).toThrow(InvalidOptionError);
      expect(() => compileExecutionOptions({ memoryBudgetBytes: bad })).toThrow(/options\.memoryBudgetBytes must be a positive integer/);
    }
    expect(compileExecutionOptions({ memoryBudgetBytes: 1024 }).memoryBudgetBytes).toBe(1024);
    expect(compileExecutionOptions({}).memoryBudgetBytes).toBeUndefined();
  });
});
