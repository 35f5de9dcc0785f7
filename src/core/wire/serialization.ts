/**
 * Value codec: msgpack for structure, with large binary payloads carried out of band.
 *
 * Typed arrays and Arrow tables are not copied into the msgpack stream; they are laid out after it,
 * each aligned to 8 bytes, so that a reader holding the bytes (for instance a SharedArrayBuffer in a
 * worker's object store) gets views onto them without a copy — the msgpack part only records
 * (buffer index, type). Layout:
 *
 *   u32 magic | u32 buffer count | f64 msgpack length | count × (f64 offset, f64 length) |
 *   msgpack bytes | pad to 8 | buffer 0 | pad | buffer 1 | ...
 */
import { addExtension, Packr } from 'msgpackr';
import { RecordBatchStreamWriter, Table, tableFromIPC } from 'apache-arrow';
import { SerializationError } from '../errors.js';

const MAGIC = 0x53484c31; // 'SHL1'
const ALIGN = 8;

interface EncodeContext {
  /** Out-of-band buffers; one given as several pieces is laid out as their concatenation. */
  buffers: (Uint8Array | Uint8Array[])[];
}
interface DecodeContext {
  bytes: Uint8Array;
  table: Float64Array | number[];
}

let encodeCtx: EncodeContext | null = null;
let decodeCtx: DecodeContext | null = null;

const packr = new Packr({ useRecords: true, mapsAsObjects: false, moreTypes: true, structuredClone: false });

const TYPED_ARRAYS = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
] as const;
type TypedArrayCtor = (typeof TYPED_ARRAYS)[number];

/** Known classes that travel as themselves; everything else must be plain data. */
const knownClasses = new Set<unknown>([Date, RegExp, Map, Set, Table, ArrayBuffer, ...TYPED_ARRAYS]);

function outOfBand(bytes: Uint8Array | Uint8Array[]): number {
  if (!encodeCtx) throw new Error('out-of-band buffer outside serialize()');
  encodeCtx.buffers.push(bytes);
  return encodeCtx.buffers.length - 1;
}

function bufferView(index: number): { bytes: Uint8Array; byteOffset: number; byteLength: number } {
  if (!decodeCtx) throw new Error('out-of-band buffer outside deserialize()');
  const offset = decodeCtx.table[index * 2]!;
  const length = decodeCtx.table[index * 2 + 1]!;
  return { bytes: decodeCtx.bytes, byteOffset: decodeCtx.bytes.byteOffset + offset, byteLength: length };
}

// Typed arrays use raw extensions: inside serialize() the payload is the index of an out-of-band
// buffer; in protocol messages (packMessage) it is the bytes themselves.
TYPED_ARRAYS.forEach((Ctor, i) => {
  addExtension({
    Class: Ctor,
    // 0x10–0x1a: clear of msgpackr's own extension types (0x42 BigInt, 0x62, 0x65, 0x69, 0x70, 0x73, 0x74, 0x78).
    type: 0x10 + i,
    pack(a: InstanceType<TypedArrayCtor>) {
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      if (!encodeCtx) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const index = Buffer.alloc(4);
      index.writeUInt32LE(outOfBand(bytes));
      return index;
    },
    unpack(payload: Uint8Array) {
      if (!decodeCtx) {
        // A copy: a view would keep the whole received frame alive (held by the head, or cloned
        // whole when posted to a thread).
        const copy = Uint8Array.prototype.slice.call(payload);
        if (Ctor === Uint8Array) return copy;
        return new Ctor(copy.buffer, 0, copy.byteLength / Ctor.BYTES_PER_ELEMENT);
      }
      const index = payload[0]! | (payload[1]! << 8) | (payload[2]! << 16) | (payload[3]! << 24);
      const { bytes, byteOffset, byteLength } = bufferView(index);
      const n = byteLength / Ctor.BYTES_PER_ELEMENT;
      if (byteOffset % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(bytes.buffer as ArrayBuffer, byteOffset, n);
      // Unaligned source (bytes not from our allocator): one copy.
      return new Ctor(bytes.buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer);
    },
  } as Parameters<typeof addExtension>[0]);
});

/**
 * An Arrow IPC stream writer that keeps the pieces it writes (message headers, padding, and the
 * column buffers themselves) instead of joining them, so `serialize` copies each column buffer once,
 * straight into its output.
 */
class IpcPieces extends RecordBatchStreamWriter {
  readonly pieces: Uint8Array[] = [];

  protected override _write(chunk: unknown): this {
    if (this._started && ArrayBuffer.isView(chunk) && chunk.byteLength > 0) {
      this.pieces.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this._position += chunk.byteLength;
    }
    return this;
  }
}

function ipcPieces(t: Table): Uint8Array[] {
  const w = new IpcPieces();
  w.writeAll(t);
  return w.pieces;
}

addExtension({
  Class: Table,
  type: 0x20,
  write(t: Table) {
    return outOfBand(ipcPieces(t));
  },
  read(index: number) {
    const { bytes, byteOffset, byteLength } = bufferView(index);
    return tableFromIPC(new Uint8Array(bytes.buffer, byteOffset, byteLength));
  },
});

/**
 * Registers a class that travels by value through the codec (ObjectRef, actor handles, ...).
 * `write` returns plain data; `read` rebuilds the instance.
 */
export function registerCodecClass<T>(options: {
  Class: new (...args: any[]) => T;
  type: number;
  write: (value: T) => unknown;
  read: (data: any) => T;
}): void {
  knownClasses.add(options.Class);
  addExtension(options as Parameters<typeof addExtension>[0]);
}

function describe(v: object): string {
  const name = v.constructor?.name;
  return name ? `a ${name}` : 'an object with a custom prototype';
}

/**
 * Walks plain data looking for values msgpack would drop or mangle silently: functions, symbols,
 * promises, event emitters (sockets, streams), cycles. Typed arrays and tables are not entered.
 */
function check(value: unknown, path: string, stack: Set<object>): void {
  const t = typeof value;
  if (t === 'function') throw new SerializationError(path, 'functions cannot be serialized (pass data; define code as a remote function)');
  if (t === 'symbol') throw new SerializationError(path, 'symbols cannot be serialized');
  if (t !== 'object' || value === null) return;
  const obj = value as object;
  if (ArrayBuffer.isView(obj) || obj instanceof Table || obj instanceof Date || obj instanceof RegExp) return;
  if (stack.has(obj)) throw new SerializationError(path, 'the value contains a reference cycle');
  // Registered classes (ObjectRef, actor handles, ...) encode themselves; don't probe them.
  if (knownClasses.has(obj.constructor) && !(obj instanceof Map) && !(obj instanceof Set)) return;
  if (obj instanceof Promise) throw new SerializationError(path, 'a Promise cannot be serialized (await it first)');
  if (obj instanceof WeakMap || obj instanceof WeakSet) throw new SerializationError(path, `${describe(obj)} cannot be serialized`);
  if (typeof (obj as { on?: unknown }).on === 'function' && typeof (obj as { emit?: unknown }).emit === 'function') {
    throw new SerializationError(path, `${describe(obj)} (an event emitter: socket, stream, server, ...) cannot be serialized`);
  }
  // Instances of user classes travel as their enumerable fields (fine for plain records; classes
  // holding native handles are caught above).
  stack.add(obj);
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const item = obj[i];
      if (typeof item === 'object' || typeof item === 'function' || typeof item === 'symbol') check(item, `${path}[${i}]`, stack);
    }
  } else if (obj instanceof Map) {
    for (const [k, v] of obj) {
      check(k, `${path}.<key>`, stack);
      check(v, `${path}.get(${String(k)})`, stack);
    }
  } else if (obj instanceof Set) {
    for (const v of obj) check(v, `${path}.<item>`, stack);
  } else if (!knownClasses.has(obj.constructor)) {
    for (const key of Object.keys(obj)) check((obj as Record<string, unknown>)[key], `${path}.${key}`, stack);
  }
  stack.delete(obj);
}

export interface SerializeOptions {
  /** Allocate the result in a SharedArrayBuffer (object stores share it with threads). */
  shared?: boolean;
  /** With `shared`, use shared memory only for results larger than this many bytes. @default 0 */
  sharedAbove?: number;
  /** Name used in error messages for the value's root (e.g. `argument 0`). */
  label?: string;
}

const align = (n: number): number => (n + ALIGN - 1) & ~(ALIGN - 1);

/** Serializes a value. Throws SerializationError naming where an unserializable value sits. */
export function serialize(value: unknown, options: SerializeOptions = {}): Uint8Array {
  check(value, options.label ?? 'value', new Set());
  const ctx: EncodeContext = { buffers: [] };
  const prev = encodeCtx;
  encodeCtx = ctx;
  let packed: Uint8Array;
  try {
    packed = packr.pack(value);
  } catch (err) {
    throw new SerializationError(options.label ?? 'value', (err as Error).message);
  } finally {
    encodeCtx = prev;
  }
  const n = ctx.buffers.length;
  const headerBytes = 16 + 16 * n;
  let cursor = align(headerBytes + packed.byteLength);
  const offsets: number[] = [];
  const lengths = ctx.buffers.map((b) => (Array.isArray(b) ? b.reduce((sum, p) => sum + p.byteLength, 0) : b.byteLength));
  for (const length of lengths) {
    offsets.push(cursor);
    cursor = align(cursor + length);
  }
  const total = cursor;
  const shared = options.shared && total > (options.sharedAbove ?? 0);
  const out = shared ? new Uint8Array(new SharedArrayBuffer(total)) : new Uint8Array(total);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, n, true);
  view.setFloat64(8, packed.byteLength, true);
  for (let i = 0; i < n; i++) {
    view.setFloat64(16 + 16 * i, offsets[i]!, true);
    view.setFloat64(24 + 16 * i, lengths[i]!, true);
  }
  out.set(packed, headerBytes);
  for (let i = 0; i < n; i++) {
    const b = ctx.buffers[i]!;
    if (!Array.isArray(b)) out.set(b, offsets[i]!);
    else {
      let at = offsets[i]!;
      for (const p of b) {
        out.set(p, at);
        at += p.byteLength;
      }
    }
  }
  return out;
}

/**
 * Deserializes bytes made by `serialize`. Typed arrays and Arrow tables in the result are views
 * onto `bytes` (no copy) — callers must treat them as immutable.
 */
export function deserialize<T = unknown>(bytes: Uint8Array): T {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 16 || view.getUint32(0, true) !== MAGIC) {
    throw new SerializationError('bytes', 'not a shoal-serialized value (bad magic)');
  }
  const n = view.getUint32(4, true);
  const packedLength = view.getFloat64(8, true);
  const table: number[] = new Array(n * 2);
  for (let i = 0; i < n * 2; i++) table[i] = view.getFloat64(16 + 8 * i, true);
  const headerBytes = 16 + 16 * n;
  const prev = decodeCtx;
  decodeCtx = { bytes, table };
  try {
    return packr.unpack(bytes.subarray(headerBytes, headerBytes + packedLength)) as T;
  } finally {
    decodeCtx = prev;
  }
}

/** Fast codec for protocol messages (trusted plain data: no checks, no out-of-band buffers). */
const wirePackr = new Packr({ useRecords: false, mapsAsObjects: true, structuredClone: false });
export const packMessage = (value: unknown): Uint8Array => wirePackr.pack(value);
export const unpackMessage = <T>(bytes: Uint8Array): T => wirePackr.unpack(bytes) as T;
