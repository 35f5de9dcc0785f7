/** Reading a path or buffer into text, transparently gunzipping (by option, `.gz` suffix or magic bytes). */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

export type Source = string | Uint8Array;

export interface SourceText {
  readonly text: string;
  /** Name used in error messages: the path, or `<buffer>`. */
  readonly name: string;
}

export async function readSourceText(source: Source, gzip: boolean | undefined, name?: string): Promise<SourceText> {
  let bytes: Uint8Array = typeof source === 'string' ? await readFile(source) : source;
  const isGz = gzip ?? ((typeof source === 'string' && source.endsWith('.gz')) || (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b));
  if (isGz) bytes = gunzipSync(bytes);
  return { text: new TextDecoder('utf-8').decode(bytes), name: name ?? (typeof source === 'string' ? source : '<buffer>') };
}
