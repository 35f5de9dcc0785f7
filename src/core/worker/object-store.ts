/**
 * A process's object store. Objects are kept as bytes in SharedArrayBuffers so that threads of the
 * same process read them without copying. Past `capacityBytes`, the least recently used objects
 * spill to files in `spillDir` and come back transparently on the next read.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { trace } from '../trace.js';
import { makePrivateDir, writePrivateFile } from '../private-files.js';

export interface ObjectStoreOptions {
  capacityBytes: number;
  spillDir: string;
}

interface Entry {
  bytes?: Uint8Array | undefined;
  size: number;
  spilled: boolean;
}

export class ObjectStore {
  private readonly entries = new Map<string, Entry>();
  private memoryBytes = 0;
  private spilledBytesTotal = 0;
  private spillDirMade = false;

  constructor(private readonly options: ObjectStoreOptions) {}

  /** Stores bytes (ideally backed by a SharedArrayBuffer; copied into one otherwise). */
  put(id: string, bytes: Uint8Array): void {
    if (this.entries.has(id)) return;
    const shared = bytes.buffer instanceof SharedArrayBuffer ? bytes : toShared(bytes);
    this.entries.set(id, { bytes: shared, size: shared.byteLength, spilled: false });
    this.memoryBytes += shared.byteLength;
    this.spillIfNeeded(id);
  }

  get(id: string): Uint8Array | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    // Touch for LRU order.
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (entry.bytes) return entry.bytes;
    const data = readFileSync(this.spillPath(id));
    entry.bytes = toShared(data);
    entry.spilled = false;
    rmSync(this.spillPath(id), { force: true });
    this.spilledBytesTotal -= entry.size;
    this.memoryBytes += entry.size;
    trace('objects', () => `restored ${id} (${entry.size} B) from disk`);
    this.spillIfNeeded(id);
    return entry.bytes;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  sizeOf(id: string): number | undefined {
    return this.entries.get(id)?.size;
  }

  delete(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    if (entry.spilled) {
      rmSync(this.spillPath(id), { force: true });
      this.spilledBytesTotal -= entry.size;
    } else {
      this.memoryBytes -= entry.size;
    }
  }

  /** Every object held (in memory or spilled) with its size. */
  list(): Array<{ id: string; size: number }> {
    return [...this.entries].map(([id, e]) => ({ id, size: e.size }));
  }

  stats(): { objects: number; memoryBytes: number; spilledBytes: number } {
    return { objects: this.entries.size, memoryBytes: this.memoryBytes, spilledBytes: this.spilledBytesTotal };
  }

  clear(): void {
    for (const id of [...this.entries.keys()]) this.delete(id);
  }

  private spillPath(id: string): string {
    return join(this.options.spillDir, id);
  }

  private spillIfNeeded(keep: string): void {
    if (this.memoryBytes <= this.options.capacityBytes) return;
    for (const [id, entry] of this.entries) {
      if (this.memoryBytes <= this.options.capacityBytes) break;
      if (id === keep || !entry.bytes) continue;
      if (!this.spillDirMade) {
        makePrivateDir(this.options.spillDir);
        this.spillDirMade = true;
      }
      writePrivateFile(this.spillPath(id), entry.bytes);
      entry.bytes = undefined;
      entry.spilled = true;
      this.memoryBytes -= entry.size;
      this.spilledBytesTotal += entry.size;
      trace('objects', () => `spilled ${id} (${entry.size} B) to disk`);
    }
  }
}

export function toShared(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  out.set(bytes);
  return out;
}
