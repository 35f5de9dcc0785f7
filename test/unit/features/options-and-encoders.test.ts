import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import {
  Bucketizer, FeatureHasher, InvalidOptionError, HashingTF, Imputer, MultiHotEncoderModel, OneHotEncoder, Pipeline, QuantileDiscretizer, StandardScaler,
  StringIndexer, TargetEncoder, TimeFeatures, VectorAssembler, FeatureError, InvalidValueError, ColumnTypeError,
} from '../../../src/features/index.js';
import { fnv1aReference, slotOf, vectorWith } from './helpers/fnv1a-reference.js';

describe('option validation names the option and the rule', () => {
  const cases: [string, () => unknown, string][] = [
    ['inputCols', () => new StandardScaler({ inputCols: [] }), "StandardScaler option 'inputCols' must be a non-empty column name or list of column names; got []"],
    ['outputCols', () => new StandardScaler({ inputCols: ['a', 'b'], outputCols: ['x'] }), `StandardScaler option 'outputCols' must have one name per input column (2); got ["x"]`],
    ['strategy', () => new Imputer({ inputCols: 'a', strategy: 'max' as 'mean' }), `Imputer option 'strategy' must be one of 'mean', 'median', 'mode'; got "max"`],
    ['handleInvalid', () => new StringIndexer({ inputCol: 'a', handleInvalid: 'drop' as 'skip' }), `StringIndexer option 'handleInvalid' must be one of 'error', 'skip', 'keep'; got "drop"`],
    ['OneHot handleInvalid', () => new OneHotEncoder({ inputCol: 'a', handleInvalid: 'skip' as 'keep' }), `OneHotEncoder option 'handleInvalid' must be one of 'error', 'keep'; got "skip"`],
    ['numBuckets', () => new QuantileDiscretizer({ inputCol: 'a', numBuckets: 0 }), "QuantileDiscretizer option 'numBuckets' must be a positive integer; got 0"],
    ['relativeError', () => new QuantileDiscretizer({ inputCol: 'a', relativeError: 2 }), 'options.relativeError must be in (0, 1); got 2'],
    ['splits', () => new Bucketizer({ inputCol: 'a', splits: [0, 1] }), 'options.splits must be at least 3 strictly increasing numbers'],
    ['numFeatures', () => new HashingTF({ inputCol: 'a', numFeatures: 1.5 }), "HashingTF option 'numFeatures' must be a positive integer; got 1.5"],
    ['FeatureHasher numFeatures', () => new FeatureHasher({ inputCols: ['a'], numFeatures: -1 }), "FeatureHasher option 'numFeatures' must be a positive integer; got -1"],
    ['smoothing', () => new TargetEncoder({ inputCol: 'a', targetCol: 'y', smoothing: -1 }), "TargetEncoder option 'smoothing' must be a finite number ≥ 0; got -1"],
    ['features', () => new TimeFeatures({ inputCol: 'd', features: ['hour' as 'month'] }), 'options.features must only contain'],
    ['referenceDate', () => new TimeFeatures({ inputCol: 'd', referenceDate: 'yesterday' }), 'options.referenceDate must be an ISO date'],
    ['VectorAssembler handleInvalid', () => new VectorAssembler({ inputCols: ['a'], handleInvalid: 'x' as 'keep' }), `VectorAssembler option 'handleInvalid' must be one of 'error', 'skip', 'keep'; got "x"`],
    ['stages', () => new Pipeline([]), 'stages must not be empty'],
    ['stages[0]', () => new Pipeline([{} as never]), 'stages[0] must be a featurizer'],
  ];
  for (const [name, make, message] of cases) {
    it(name, () => {
      let err: unknown;
      try {
        make();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as Error).message).toContain(message);
      expect((err as InvalidOptionError).code).toBe('INVALID_OPTION');
    });
  }
});

describe('errors', () => {
  it('instanceof works by marker and codes are stable', () => {
    const e = new InvalidValueError('bad', { stage: 'S', column: 'c', value: 1 });
    expect(e).toBeInstanceOf(FeatureError);
    expect(e).toBeInstanceOf(InvalidValueError);
    expect(e).not.toBeInstanceOf(ColumnTypeError);
    expect(e.message).toBe('stage S, column "c": bad');
    expect(e.code).toBe('FEATURE_INVALID_VALUE');
    // An error made by another copy of shoal (another realm) carries the same Symbol.for markers.
    const foreign = Object.assign(new Error('x'), { [Symbol.for('shoal/features/InvalidValueError')]: true, [Symbol.for('shoal/features/FeatureError')]: true });
    expect(foreign).toBeInstanceOf(InvalidValueError);
    expect(foreign).toBeInstanceOf(FeatureError);
    expect(foreign).not.toBeInstanceOf(ColumnTypeError);
  });
});

describe('MultiHotEncoder', () => {
  const m = new MultiHotEncoderModel('amenities', 'mh', ['Wifi', 'Kitchen', 'TV']);
  it('parses JSON lists and Arrow lists; bad JSON, null and non-arrays are the empty set; unseen items are ignored', () => {
    const out = m.transformBatch([{ amenities: '["Wifi", "Pool", "TV"]' }, { amenities: 'not json' }, { amenities: null }, { amenities: '{"a":1}' }]);
    expect(out.map((r) => r['mh'])).toEqual([[1, 0, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    const t = new arrow.Table({ amenities: arrow.vectorFromArray([['Kitchen', 'Kitchen']], new arrow.List(new arrow.Field('item', new arrow.Utf8(), true))) });
    expect([...(m.transformTable(t).getChild('mh')!.get(0) as Iterable<number>)]).toEqual([0, 1, 0]);
  });
});

describe('FeatureHasher', () => {
  it('numeric columns add their value; categorical add 1 at hash(name=value); deterministic', () => {
    const m = new FeatureHasher({ inputCols: ['n', 's'], numFeatures: 64 }).model;
    const [a] = m.transformBatch([{ n: 2.5, s: 'x' }]);
    const [b] = m.transformBatch([{ n: 2.5, s: 'x' }]);
    const v = a!['features'] as number[];
    expect(v).toEqual(b!['features']);
    // The slots, not just the sum: numeric n at hash("n"), categorical s at hash("s=x") (FNV-1a, checked independently).
    expect(slotOf('n', 64)).not.toBe(slotOf('s=x', 64));
    expect(v).toEqual(vectorWith(64, [[slotOf('n', 64), 2.5], [slotOf('s=x', 64), 1]]));
  });

  it('different values of one column land in their own slots; a numeric column keeps one slot', () => {
    const m = new FeatureHasher({ inputCols: ['n', 's'], numFeatures: 1024 }).model;
    const rows = m.transformBatch([{ n: 1, s: 'x' }, { n: 4, s: 'y' }, { n: null, s: 'Ünïcode' }]).map((r) => r['features'] as number[]);
    const slots = ['s=x', 's=y', 's=Ünïcode'].map((k) => slotOf(k, 1024));
    expect(new Set([...slots, slotOf('n', 1024)]).size).toBe(4);
    expect(rows[0]).toEqual(vectorWith(1024, [[slotOf('n', 1024), 1], [slots[0]!, 1]]));
    expect(rows[1]).toEqual(vectorWith(1024, [[slotOf('n', 1024), 4], [slots[1]!, 1]]));
    expect(rows[2]!.map((x, i) => (x !== 0 ? i : -1)).filter((i) => i >= 0)).toEqual([slotOf('s=Ünïcode', 1024)]);
  });

  it('the reference FNV-1a matches the published test vectors', () => {
    expect(fnv1aReference('')).toBe(0x811c9dc5);
    expect(fnv1aReference('a')).toBe(0xe40c292c);
    expect(fnv1aReference('foobar')).toBe(0xbf9cf968);
  });
});

describe('skip policies drop rows the same way in batches and rows', () => {
  it('Bucketizer skip', () => {
    const m = new Bucketizer({ inputCol: 'x', splits: [0, 1, 2], handleInvalid: 'skip' }).model;
    expect(m.transformBatch([{ x: 0.5 }, { x: 5 }, { x: null }, { x: 2 }]).map((r) => r['x_bucket'])).toEqual([0, 1]);
    expect(m.transformRow({ x: 9 })).toBeNull();
    expect(() => new Bucketizer({ inputCol: 'x', splits: [0, 1, 2] }).model.transformRow({ x: 9 })).toThrow(/outside the splits/);
  });
});

describe('Pipeline.fit dependencies', () => {
  it('reads each featurizer input columns (target included)', async () => {
    const { featurizerInputs } = await import('../../../src/features/pipeline.js');
    expect(featurizerInputs(new StandardScaler({ inputCols: ['a', 'b'] }))).toEqual(['a', 'b']);
    expect(featurizerInputs(new TargetEncoder({ inputCol: 'c', targetCol: 'y' }))).toEqual(['c', 'y']);
    expect(featurizerInputs(new QuantileDiscretizer({ inputCol: 'q' }))).toEqual(['q']);
    expect(featurizerInputs(new HashingTF({ inputCol: 'w' }))).toEqual(['w']);
    expect(featurizerInputs({ className: 'Opaque', fit: () => Promise.reject(new Error('unused')) })).toBeNull();
  });
});
