import { Dictionary, Field, Int32, List, Table, Utf8, tableFromArrays, tableToIPC, vectorFromArray } from 'apache-arrow';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SerializationError } from '../../../src/core/errors.js';
import { ObjectRef } from '../../../src/core/api/object-ref.js';
import { deserialize, serialize } from '../../../src/core/wire/serialization.js';

const roundTrip = <T>(v: T, shared = false): T => deserialize<T>(serialize(v, { shared }));

function thrown(fn: () => unknown): SerializationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SerializationError);
    return err as SerializationError;
  }
  throw new Error('expected a SerializationError');
}

describe('typed arrays', () => {
  it.each([
    Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array,
  ].map((C) => [C.name, C] as const))('round-trips a %s', (_name, Ctor) => {
    const a = new Ctor(1000).map((_, i) => i % 100);
    const back = roundTrip(a);
    expect(back).toBeInstanceOf(Ctor);
    expect(back).toEqual(a);
  });

  it('round-trips BigInt64Array and BigUint64Array', () => {
    expect(roundTrip(BigInt64Array.from([-1n, 2n ** 62n]))).toEqual(BigInt64Array.from([-1n, 2n ** 62n]));
    expect(roundTrip(BigUint64Array.from([2n ** 64n - 1n]))).toEqual(BigUint64Array.from([2n ** 64n - 1n]));
  });

  it('deserializes typed arrays as zero-copy views onto the bytes', () => {
    const bytes = serialize({ a: new Float64Array([1, 2, 3]), b: new Int32Array([7, 8]) }, { shared: true });
    const v = deserialize<{ a: Float64Array; b: Int32Array }>(bytes);
    expect(v.a.buffer).toBe(bytes.buffer);
    expect(v.b.buffer).toBe(bytes.buffer);
    expect(v.a.byteOffset % 8).toBe(0); // aligned
    expect(bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect([...v.a]).toEqual([1, 2, 3]);
  });

  it('serializes only the viewed part of a subarray', () => {
    const big = new Float64Array(100_000).map((_, i) => i);
    const part = big.subarray(10, 13);
    const bytes = serialize(part);
    expect(bytes.byteLength).toBeLessThan(200);
    expect([...deserialize<Float64Array>(bytes)]).toEqual([10, 11, 12]);
  });

  it('copies once when the bytes are unaligned for the element type', () => {
    const bytes = serialize(new Float64Array([1.5, 2.5]));
    const shifted = new Uint8Array(bytes.byteLength + 1).subarray(1);
    shifted.set(bytes);
    expect([...deserialize<Float64Array>(shifted)]).toEqual([1.5, 2.5]);
  });
});

describe('Arrow tables', () => {
  it('round-trips a table with numbers, strings and nulls', () => {
    const t = tableFromArrays({ x: Float64Array.from([1, 2, 3]), s: ['a', null, 'c'] as (string | null)[] });
    const back = roundTrip({ t });
    expect(back.t).toBeInstanceOf(Table);
    expect(back.t.numRows).toBe(3);
    expect([...back.t.getChild('x')!]).toEqual([1, 2, 3]);
    expect([...back.t.getChild('s')!]).toEqual(['a', null, 'c']);
  });

  it('lays a table out as exactly its Arrow IPC stream, its columns readable in place (several batches, slices, dictionaries, lists)', () => {
    const a = tableFromArrays({ x: Float64Array.from([1, 2, 3, 4]), s: ['a', null, 'ccc', 'dd'] as (string | null)[], l: BigInt64Array.from([1n, -2n, 3n, -(2n ** 62n)]) });
    const tables = [
      a,
      new Table([...a.slice(0, 1).batches, ...a.slice(1).batches]),
      a.slice(1, 3),
      new Table({ d: vectorFromArray(['u', 'v', 'u', null], new Dictionary(new Utf8(), new Int32())) }),
      new Table({ list: vectorFromArray([[1, 2], null, [3]], new List(new Field('item', new Int32(), true))) }),
      a.slice(0, 0),
    ];
    for (const t of tables) {
      const bytes = serialize(t, { shared: true });
      const ipc = tableToIPC(t, 'stream');
      const back = deserialize<Table>(bytes);
      const json = (x: Table): string => JSON.stringify(x.toArray(), (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
      expect(json(back)).toBe(json(t));
      // The out-of-band region is the IPC stream byte for byte.
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const at = view.getFloat64(16, true);
      expect(view.getFloat64(24, true)).toBe(ipc.byteLength);
      expect(Buffer.from(bytes.subarray(at, at + ipc.byteLength)).equals(Buffer.from(ipc))).toBe(true);
    }
  });
});

describe('structured values', () => {
  it('round-trips Map, Set, Date, RegExp, nested arrays and objects', () => {
    const v = {
      m: new Map<unknown, unknown>([['k', 1], [2, { x: [1, 2] }]]),
      s: new Set(['a', 'b']),
      d: new Date(1_700_000_000_000),
      r: /ab+c/gi,
      nested: [[1, [2, [3]]], { deep: { deeper: 'yes' } }],
      nil: null,
      flag: true,
    };
    expect(roundTrip(v)).toEqual(v);
  });

  it('round-trips BigInts in the 64-bit range', () => {
    for (const b of [0n, 1n, -1n, 2n ** 40n, 2n ** 63n - 1n, -(2n ** 63n)]) expect(roundTrip(b)).toBe(b);
  });

  // Regression: msgpackr encodes BigInts beyond 64 bits with its own extension type 0x42, which
  // shoal once also used for Uint8ClampedArray — they came back as an empty array.
  it('round-trips BigInts beyond 64 bits', () => {
    for (const b of [2n ** 64n, 2n ** 70n, -(2n ** 100n)]) expect(roundTrip(b)).toBe(b);
  });

  it('keeps an ObjectRef nested in a value as an ObjectRef', () => {
    const ref = new ObjectRef('oabc123');
    const back = roundTrip({ list: [ref], inner: { ref } });
    expect(back.list[0]).toBeInstanceOf(ObjectRef);
    expect(back.list[0]!.id).toBe('oabc123');
    expect(back.inner.ref.id).toBe('oabc123');
  });

  it('rejects bytes that are not a shoal value', () => {
    expect(() => deserialize(new Uint8Array(32))).toThrow(/bad magic/);
  });
});

describe('unserializable values', () => {
  it('a function, naming its path', () => {
    const e = thrown(() => serialize({ a: [1, { cb: () => 1 }] }, { label: 'arguments' }));
    expect(e.path).toBe('arguments.a[1].cb');
    expect(e.message).toMatch(/cannot serialize arguments\.a\[1\]\.cb: functions cannot be serialized/);
  });

  it('a Promise', () => {
    const e = thrown(() => serialize({ p: Promise.resolve(1) }));
    expect(e.path).toBe('value.p');
    expect(e.reason).toMatch(/Promise/);
  });

  it('a socket (event emitter)', () => {
    const socket = new Socket();
    try {
      const e = thrown(() => serialize({ conn: socket }));
      expect(e.path).toBe('value.conn');
      expect(e.reason).toMatch(/Socket.*event emitter/);
    } finally {
      socket.destroy();
    }
  });

  it('a symbol', () => {
    expect(thrown(() => serialize([Symbol('x')])).path).toBe('value[0]');
  });

  it('a reference cycle', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = { back: a };
    const e = thrown(() => serialize(a));
    expect(e.path).toBe('value.self.back');
    expect(e.reason).toMatch(/cycle/);
  });

  it('a value inside a Map names the key', () => {
    expect(thrown(() => serialize(new Map([['k', () => 1]]))).path).toBe('value.get(k)');
  });

  it('the same object twice (not a cycle) is fine', () => {
    const shared = { x: 1 };
    expect(roundTrip([shared, shared])).toEqual([{ x: 1 }, { x: 1 }]);
  });
});
