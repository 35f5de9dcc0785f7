/**
 * The one family of stable 32-bit hashes shoal uses wherever a hash outlives a process: partitioning
 * (row-key.ts), feature hashing (features' HashingTF and FeatureHasher, whose slots are persisted in
 * saved pipelines and trained models — so these functions must never change their output). Strings
 * hash by FNV-1a over UTF-16 code units; numbers by value; `hashString` finishes FNV-1a with
 * murmur3's fmix32 for partitioning, feature hashing takes the raw FNV-1a value.
 */

/** FNV-1a, 32-bit, over the string's UTF-16 code units (unsigned). Feature hashing slots are `fnv1a32(s) % width`. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's 32-bit finalizer: spreads every input bit over the output. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Stable 32-bit hash of a string for partitioning (FNV-1a over UTF-16 code units, then fmix32). */
export function hashString(s: string): number {
  return fmix32(fnv1a32(s));
}
