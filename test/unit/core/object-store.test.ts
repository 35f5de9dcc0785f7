import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ObjectStore } from '../../../src/core/worker/object-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-store-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const filled = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

describe('ObjectStore', () => {
  it('keeps objects in SharedArrayBuffers', () => {
    const s = new ObjectStore({ capacityBytes: 1 << 20, spillDir: join(dir, 'spill') });
    s.put('o1', filled(10, 1));
    expect(s.get('o1')!.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(s.stats()).toEqual({ objects: 1, memoryBytes: 10, spilledBytes: 0 });
  });

  it('spills least recently used objects past capacity and restores them transparently', () => {
    const spillDir = join(dir, 'spill');
    const s = new ObjectStore({ capacityBytes: 250, spillDir });
    s.put('o1', filled(100, 1));
    s.put('o2', filled(100, 2));
    s.get('o1'); // o2 is now the least recently used
    s.put('o3', filled(100, 3));
    expect(s.stats()).toEqual({ objects: 3, memoryBytes: 200, spilledBytes: 100 });
    expect(readdirSync(spillDir)).toEqual(['o2']);
    const back = s.get('o2')!;
    expect(back.byteLength).toBe(100);
    expect(back.every((b) => b === 2)).toBe(true);
    expect(existsSync(join(spillDir, 'o2'))).toBe(false);
    expect(s.stats().memoryBytes).toBeLessThanOrEqual(250);
    expect(s.stats().objects).toBe(3);
    // Everything is still readable with its own content.
    for (const [id, v] of [['o1', 1], ['o2', 2], ['o3', 3]] as const) expect(s.get(id)!.every((b) => b === v)).toBe(true);
  });

  it('delete removes the spill file of a spilled object', () => {
    const spillDir = join(dir, 'spill');
    const s = new ObjectStore({ capacityBytes: 150, spillDir });
    s.put('o1', filled(100, 1));
    s.put('o2', filled(100, 2));
    expect(existsSync(join(spillDir, 'o1'))).toBe(true);
    s.delete('o1');
    expect(existsSync(join(spillDir, 'o1'))).toBe(false);
    expect(s.has('o1')).toBe(false);
    expect(s.get('o1')).toBeUndefined();
    expect(s.stats()).toEqual({ objects: 1, memoryBytes: 100, spilledBytes: 0 });
  });

  it('an object larger than capacity stays readable', () => {
    const s = new ObjectStore({ capacityBytes: 10, spillDir: join(dir, 'spill') });
    s.put('big', filled(100, 9));
    expect(s.get('big')!.byteLength).toBe(100);
  });

  it('put of an existing id keeps the first value', () => {
    const s = new ObjectStore({ capacityBytes: 1000, spillDir: join(dir, 'spill') });
    s.put('o', filled(4, 1));
    s.put('o', filled(8, 2));
    expect(s.get('o')).toEqual(filled(4, 1));
    expect(s.sizeOf('o')).toBe(4);
  });

  it('clear removes everything, spilled files included', () => {
    const spillDir = join(dir, 'spill');
    const s = new ObjectStore({ capacityBytes: 100, spillDir });
    for (let i = 0; i < 5; i++) s.put(`o${i}`, filled(60, i));
    expect(readdirSync(spillDir).length).toBeGreaterThan(0);
    s.clear();
    expect(readdirSync(spillDir)).toEqual([]);
    expect(s.stats()).toEqual({ objects: 0, memoryBytes: 0, spilledBytes: 0 });
  });
});
