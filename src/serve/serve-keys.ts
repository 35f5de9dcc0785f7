/**
 * Serving keys: bearer keys for the inference path, issued separately from the cluster token
 * (`shoal serve keys create`). Only their sha256 is stored, in `$SHOAL_HOME/serve-keys.json`
 * (mode 0600); the key itself is shown once, at creation.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { shoalHome } from '../core/index.js';

export const serveKeysFile = (home = shoalHome()): string => join(home, 'serve-keys.json');

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

interface KeyFile {
  keys: Array<{ sha256: string; createdMs: number; name?: string | undefined }>;
}

/** Creates a serving key, stores its hash, and returns the key (shown once). */
export function createServeKey(options: { file?: string; name?: string } = {}): string {
  const file = options.file ?? serveKeysFile();
  const key = `sk_${randomBytes(24).toString('base64url')}`;
  const data: KeyFile = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as KeyFile) : { keys: [] };
  data.keys.push({ sha256: hashKey(key), createdMs: Date.now(), name: options.name });
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(data, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}

/** Hashes of the keys in `file` (none when it does not exist). */
export function loadServeKeyHashes(file = serveKeysFile()): string[] {
  if (!existsSync(file)) return [];
  return (JSON.parse(readFileSync(file, 'utf8')) as KeyFile).keys.map((k) => k.sha256);
}

/** Constant-time comparison of two secrets (via their hashes, so lengths need not match). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(hashKey(a), 'hex'), Buffer.from(hashKey(b), 'hex'));
}
