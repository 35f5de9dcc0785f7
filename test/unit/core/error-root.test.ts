import { describe, expect, it } from 'vitest';
import { errorFromWire, errorToWire, InvalidOptionError, invalidOption, ShoalError, TaskError } from '../../../src/core/errors.js';
import { NoClusterError, PortInUseError } from '../../../src/cli/errors.js';
import { DataError, InvalidOptionError as DataInvalidOptionError, SourceSchemaMismatchError, SchemaMismatchError, UnknownColumnError } from '../../../src/data/errors.js';
import { FeatureError, InvalidOptionError as FeatureInvalidOptionError, InvalidValueError } from '../../../src/features/errors.js';
import { InvalidIdError, InvalidOptionError as TrainInvalidOptionError, InvalidTrainingDataError, ModelFormatError, TrainError } from '../../../src/train/errors.js';

describe('one error root', () => {
  const samples: Array<[string, ShoalError, string]> = [
    ['DataError', new UnknownColumnError('x', ['y']), 'DATA_UNKNOWN_COLUMN'],
    ['FeatureError', new InvalidValueError('bad', { stage: 'S', value: 1 }), 'FEATURE_INVALID_VALUE'],
    ['TrainError', new ModelFormatError('/m', 'truncated'), 'TRAIN_MODEL_FORMAT'],
    ['cli', new PortInUseError('127.0.0.1', 6380), 'PORT_IN_USE'],
    ['cli', new NoClusterError('no cluster'), 'NO_CLUSTER'],
    ['core', new InvalidOptionError('options.x must be y'), 'INVALID_OPTION'],
  ];

  it.each(samples)('a %s is a ShoalError and keeps its code', (_layer, err, code) => {
    expect(err).toBeInstanceOf(ShoalError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(code);
    expect(err.name).toBe(err.constructor.name);
  });

  it('layers do not catch each other', () => {
    expect(new UnknownColumnError('x', [])).not.toBeInstanceOf(FeatureError);
    expect(new InvalidValueError('bad', { value: 1 })).not.toBeInstanceOf(DataError);
    expect(new ModelFormatError('/m', 'x')).not.toBeInstanceOf(DataError);
    expect(new InvalidIdError('user', 3, 'u')).toBeInstanceOf(InvalidTrainingDataError);
    expect(new InvalidIdError('user', 3, 'u')).toBeInstanceOf(TrainError);
    expect(new SourceSchemaMismatchError('f.csv', 'a', 'int vs string')).toBeInstanceOf(SchemaMismatchError);
    expect(new TaskError('f', 't', 'E', 'm', 's')).not.toBeInstanceOf(InvalidOptionError);
  });

  it('one invalid-option class, re-exported by every layer', () => {
    expect(DataInvalidOptionError).toBe(InvalidOptionError);
    expect(FeatureInvalidOptionError).toBe(InvalidOptionError);
    expect(TrainInvalidOptionError).toBe(InvalidOptionError);
    const e = invalidOption('options.splits', 'must be increasing', { stage: 'Bucketizer', column: 'x' });
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect(e.message).toBe('stage Bucketizer, column "x": options.splits must be increasing');
    expect([e.option, e.stage, e.column, e.code]).toEqual(['options.splits', 'Bucketizer', 'x', 'INVALID_OPTION']);
  });

  it('instanceof works across realms for every marked class, through Symbol.for markers', () => {
    // What an error made by another copy of shoal looks like: another prototype, the same global symbols.
    const foreignData = Object.assign(new Error('x'), { [Symbol.for('shoal/data/UnknownColumnError')]: true, [Symbol.for('shoal/data/DataError')]: true, [Symbol.for('shoal/ShoalError')]: true });
    expect(foreignData).toBeInstanceOf(UnknownColumnError);
    expect(foreignData).toBeInstanceOf(DataError);
    expect(foreignData).toBeInstanceOf(ShoalError);
    expect(foreignData).not.toBeInstanceOf(SchemaMismatchError);
    const foreignTrain = Object.assign(new Error('x'), { [Symbol.for('shoal/train/TrainError')]: true });
    expect(foreignTrain).toBeInstanceOf(TrainError);
    expect(foreignTrain).not.toBeInstanceOf(ModelFormatError);
    const foreignOption = Object.assign(new Error('x'), { [Symbol.for('shoal/core/InvalidOptionError')]: true });
    expect(foreignOption).toBeInstanceOf(InvalidOptionError);
  });

  it('an invalid-option error crosses the wire with its option, stage and column', () => {
    const back = errorFromWire(errorToWire(invalidOption('options.k', 'must be positive', { stage: 'S' }))) as InvalidOptionError;
    expect(back).toBeInstanceOf(InvalidOptionError);
    expect([back.option, back.stage, back.message]).toEqual(['options.k', 'S', 'stage S: options.k must be positive']);
  });
});
