/**
 * Decoding of online values. Each value is stored msgpackr-encoded; a lookup of 100 entities × 20
 * features decodes 2,100 of them, and a call of msgpackr's `unpack` per value costs more than the
 * value itself. The scalar encodings the store writes for numbers, booleans and null are read here
 * directly; anything else (strings, lists, ...) goes to `unpack`.
 */
import { unpack } from 'msgpackr';

export function decodeValue(b: Buffer): unknown {
  const t = b[0]!;
  switch (b.length) {
    case 1:
      if (t < 0x80) return t; // positive fixint
      if (t >= 0xe0) return t - 0x100; // negative fixint
      if (t === 0xc0) return null;
      if (t === 0xc2) return false;
      if (t === 0xc3) return true;
      break;
    case 2:
      if (t === 0xcc) return b.readUInt8(1);
      if (t === 0xd0) return b.readInt8(1);
      break;
    case 3:
      if (t === 0xcd) return b.readUInt16BE(1);
      if (t === 0xd1) return b.readInt16BE(1);
      break;
    case 5:
      if (t === 0xce) return b.readUInt32BE(1);
      if (t === 0xd2) return b.readInt32BE(1);
      if (t === 0xca) return b.readFloatBE(1);
      break;
    case 9:
      if (t === 0xcb) return b.readDoubleBE(1);
      break;
  }
  return unpack(b);
}
