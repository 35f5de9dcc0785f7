/**
 * The head lays out a submitted job's files from uploaded bundles: names come from the client, so
 * only flat NAME.mjs names are accepted, and every file must be an uploaded bundle.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleCache } from '../../../src/core/wire/code-shipping.js';

const dir = mkdtempSync(join(tmpdir(), 'shoal-bundle-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const put = (cache: BundleCache, text: string): string => {
  const code = Buffer.from(text);
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 32);
  cache.write(hash, code);
  return hash;
};

describe('BundleCache.materialize', () => {
  const cache = new BundleCache(dir);
  const main = put(cache, "import './chunk-a.mjs';");
  const chunk = put(cache, 'export const a = 1;');

  it("writes the job's files side by side and returns the entry's path", () => {
    const entry = cache.materialize({ 'main.mjs': main, 'chunk-a.mjs': chunk }, main);
    expect(entry.endsWith('/main.mjs')).toBe(true);
    expect(readFileSync(join(dirname(entry), 'chunk-a.mjs'), 'utf8')).toBe('export const a = 1;');
    expect(dirname(dirname(dirname(entry)))).toBe(dir);
  });

  it('refuses a file name that is a path', () => {
    expect(() => cache.materialize({ '../evil.mjs': chunk, 'main.mjs': main }, main)).toThrow("job file name '../evil.mjs' must be a flat NAME.mjs");
    expect(() => cache.materialize({ 'a/b.mjs': chunk, 'main.mjs': main }, main)).toThrow('must be a flat NAME.mjs');
  });

  it('refuses a file whose bundle was not uploaded, and an entry that is not among the files', () => {
    expect(() => cache.materialize({ 'main.mjs': main, 'x.mjs': 'f'.repeat(32) }, main)).toThrow(`job file x.mjs: bundle ${'f'.repeat(32)} was not uploaded`);
    expect(() => cache.materialize({ 'chunk-a.mjs': chunk }, main)).toThrow(`the job's entry bundle ${main} is not one of its files`);
  });
});
