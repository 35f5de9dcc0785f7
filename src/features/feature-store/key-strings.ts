/**
 * Entity keys as the online store spells them: strings as they are, integers in decimal — exactly,
 * also past 2^53 (listing ids do exceed it), so a key written by materialization from an int64
 * column equals the one a lookup builds from the same id given as a bigint.
 */
import * as arrow from 'apache-arrow';
import { readStrings } from '../columns.js';

export function keyStrings(vec: arrow.Vector): (string | null)[] {
  if (vec.type.typeId !== arrow.Type.Int) return readStrings(vec);
  const out = new Array<string | null>(vec.length);
  for (let i = 0; i < vec.length; i++) {
    const v: unknown = vec.get(i);
    out[i] = v === null || v === undefined ? null : String(v);
  }
  return out;
}
