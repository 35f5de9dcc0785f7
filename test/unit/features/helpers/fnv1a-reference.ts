/**
 * An independent FNV-1a 32-bit (BigInt arithmetic, the published definition) so the hashing
 * featurizers' slots are checked against something other than their own hash. Like shoal's, it folds
 * in UTF-16 code units (documented in src/features/hashing.ts); for ASCII these are the bytes the
 * published test vectors use.
 */
const OFFSET = 0x811c9dc5n;
const PRIME = 0x01000193n;
const MASK = 0xffffffffn;

export function fnv1aReference(s: string): number {
  let h = OFFSET;
  for (let i = 0; i < s.length; i++) h = ((h ^ BigInt(s.charCodeAt(i))) * PRIME) & MASK;
  return Number(h);
}

/** The slot a hashing featurizer must use for `s` in a vector of `width`. */
export const slotOf = (s: string, width: number): number => fnv1aReference(s) % width;

/** A vector of `width` zeros with `value` added at each given slot. */
export function vectorWith(width: number, entries: readonly (readonly [slot: number, value: number])[]): number[] {
  const v = new Array<number>(width).fill(0);
  for (const [slot, value] of entries) v[slot]! += value;
  return v;
}
