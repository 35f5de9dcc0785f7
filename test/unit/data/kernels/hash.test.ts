import { describe, expect, it } from 'vitest';
import { fnv1a32, hashString } from '../../../../src/data/kernels/hash.js';

// Pinned outputs: feature-hashing slots (fnv1a32 % width) are persisted in saved pipelines and models,
// and partition placement must agree across processes and versions. These values were produced by the
// copies this module replaced (features/hashing.ts fnv1a and data row-key hashString).
const PINNED: Array<[string, number, number]> = [
  ['', 2166136261, 2872998923],
  ['a', 3826002220, 444641715],
  ['wifi', 120087624, 3192746255],
  ['room_type=Private room', 3205203040, 701380449],
  ['ünïcødé 🏠', 3739437024, 2192883643],
];

describe('the one string hash', () => {
  it.each(PINNED)('%j hashes as it always has', (s, fnv, partition) => {
    expect(fnv1a32(s)).toBe(fnv);
    expect(hashString(s)).toBe(partition);
  });
});
