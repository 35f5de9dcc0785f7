/** Reading a chunk of a job's log file from an offset (both sources keep logs as files). */
import { open } from 'node:fs/promises';
import type { LogChunk } from './api-types.js';
import { MAX_LOG_CHUNK_BYTES } from './source.js';

/**
 * Up to MAX_LOG_CHUNK_BYTES from `offset`; `done` when `ended` and nothing is left. A missing file
 * reads as empty. A chunk never ends inside a UTF-8 character: the cut moves back to a boundary.
 */
export async function readLogChunk(file: string, offset: number, ended: boolean): Promise<LogChunk> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return { data: '', offset, done: ended };
  }
  try {
    const size = (await fh.stat()).size;
    const length = Math.max(0, Math.min(MAX_LOG_CHUNK_BYTES, size - offset));
    if (length === 0) return { data: '', offset, done: ended };
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    let end = bytesRead;
    // Back off a partial multi-byte character at the end (continuation bytes are 10xxxxxx).
    if (offset + end < size) {
      let i = end - 1;
      while (i > 0 && end - i < 4 && (buf[i]! & 0xc0) === 0x80) i--;
      const lead = buf[i]!;
      const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (end - i < need) end = i;
    }
    const next = offset + end;
    return { data: buf.subarray(0, end).toString('utf8'), offset: next, done: ended && next >= size };
  } finally {
    await fh.close();
  }
}
