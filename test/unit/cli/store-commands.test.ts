/** `shoal runs|models|lineage` against a store in a temp folder (the CLI's main(), its output captured). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/index.js';
import { openStore } from '../../../src/store/index.js';

let dir: string;
let db: string;
let runA: string;
let runB: string;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'shoal', ...args, ...(args[0] === 'lineage' || args.length > 1 ? ['--store', db] : [])], {
    stdout: (t) => void (out += t), stderr: (t) => void (err += t),
  });
  return { code, out, err };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-cli-store-'));
  db = join(dir, 'store.db');
  const store = await openStore({ url: db, artifactDir: join(dir, 'artifacts') });
  const ds = await store.logDatasetFiles('albany', [{ path: 'ratings.parquet', sha256: 'a'.repeat(64), bytes: 100 }], { rowCount: 42 });
  const a = await store.startRun({ experiment: 'rental', name: 'baseline', params: { rank: 8, reg: 0.1 }, gitCommit: 'abc1234' });
  const b = await store.startRun({ experiment: 'rental', name: 'bigger <b>', params: { rank: 16, reg: 0.1 } });
  for (let s = 0; s < 3; s++) {
    a.logMetric('ndcg', 0.1 + s * 0.01, s);
    b.logMetric('ndcg', 0.12 + s * 0.02, s);
  }
  a.logMetric('rmse', 1.2);
  await b.logInput(ds, { role: 'training' });
  const uri = await b.logModel('model', { flavor: 'test', tensors: { w: new Float32Array(3) }, signature: { inputs: [{ name: 'user', type: 'int32' }], outputs: [{ name: 'scores', type: 'float32' }] } });
  await a.end();
  await b.end();
  await store.registerModel('rental-recs', uri, { description: 'rental recommendations' });
  await store.registerModel('rental-recs', uri);
  await store.setAlias('rental-recs', 'champion', 1, { by: 'ci', reason: 'first' });
  [runA, runB] = [a.id, b.id];
  await store.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('shoal runs / models / lineage', () => {
  it('runs list, with a filter, and a bad filter as one error line', async () => {
    const all = await cli('runs', 'list');
    expect(all.code).toBe(0);
    expect(all.out).toContain(runA.slice(0, 12));
    expect(all.out).toContain('FINISHED');
    const some = await cli('runs', 'list', '--filter', "params.rank = '16'");
    expect(some.out).toContain(runB.slice(0, 12));
    expect(some.out).not.toContain(runA.slice(0, 12));
    const bad = await cli('runs', 'list', '--filter', 'metrics.ndcg >');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error: bad filter at position 14/);
  });

  it('runs show by id prefix, and an unknown run named', async () => {
    const r = await cli('runs', 'show', runB.slice(0, 10));
    expect(r.code).toBe(0);
    expect(r.out).toContain(`run ${runB}`);
    expect(r.out).toContain('rank: 16');
    expect(r.out).toContain('model/MLmodel.json');
    expect(r.out).toMatch(/dataset albany@[0-9a-f]{16} \(training\)/);
    const missing = await cli('runs', 'show', 'f'.repeat(32));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`no run "${'f'.repeat(32)}"`);
  });

  it('runs compare writes the metric differences as markdown and HTML with plots', async () => {
    const md = await cli('runs', 'compare', runA, runB);
    expect(md.code).toBe(0);
    expect(md.out).toContain('| ndcg | 0.12000 | 0.16000 | +0.040000 | +33.3% |');
    expect(md.out).toContain('| rank | 8 | 16 |');
    expect(md.out).not.toContain('| reg |');
    expect(md.out).toContain('| rmse | 1.2000 | — | — | — |');
    const out = join(dir, 'diff.html');
    const html = await cli('runs', 'compare', runA, runB, '--format', 'html', '--out', out);
    expect(html.code).toBe(0);
    const text = await readFile(out, 'utf8');
    expect(text).toContain('<svg');
    expect(text).toContain('<polyline');
    expect(text).toContain('bigger &#60;b&#62;');
    expect(text).not.toContain('bigger <b>');
    expect((await cli('runs', 'compare', runA, runB, '--format', 'pdf')).err).toMatch(/--format must be md or html; got pdf/);
  });

  it('models list / show / alias, with the alias history', async () => {
    expect((await cli('models', 'list')).out).toMatch(/rental-recs\s+2\s+champion→1/);
    const moved = await cli('models', 'alias', 'rental-recs', 'champion', '2', '--reason', 'better ndcg');
    expect(moved.out).toBe('rental-recs@champion: 1 → 2\n');
    const show = await cli('models', 'show', 'rental-recs');
    expect(show.out).toContain('champion: 1 → 2  by');
    expect(show.out).toContain('better ndcg');
    expect(show.out).toContain('user → scores');
    const conflict = await cli('models', 'alias', 'rental-recs', 'champion', '1', '--if-current', '1');
    expect(conflict.code).toBe(1);
    expect(conflict.err).toMatch(/points at version 2, not version 1/);
    expect((await cli('models', 'show', 'nope')).err).toContain('no registered model "nope"');
    expect((await cli('models', 'alias', 'rental-recs', 'x', '9')).err).toContain('no model version "rental-recs/9"');
  });

  it('lineage prints the chain from an alias to run, params, code and data', async () => {
    const l = await cli('lineage', 'models:/rental-recs@champion');
    expect(l.code).toBe(0);
    expect(l.out).toContain('model version rental-recs/2 (champion)');
    expect(l.out).toContain(`run ${runB}`);
    expect(l.out).toContain('params: rank=16 reg=0.1');
    expect(l.out).toMatch(/data \(training\): albany@[0-9a-f]{16} — 1 files, 42 rows/);
    expect((await cli('lineage', 'models:/rental-recs@gone')).err).toContain('no alias "rental-recs@gone"');
    expect((await cli('lineage', 'file:///etc/passwd')).err).toContain('invalid model URI');
  });
});
