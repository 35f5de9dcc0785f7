/** The platform store, the same suite on SQLite and on PostgreSQL: tracking, artifacts, registry, models, lineage, schema. */
import { lstat, readFile, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AliasConflictError, AliasNotFoundError, ArtifactCorruptError, ArtifactNotFoundError, FilterSyntaxError, InvalidModelUriError, InvalidNameError,
  ModelNotFoundError, ModelVersionNotFoundError, openStore, RunEndedError, RunNotFoundError, StoreSchemaError, type Store, type StoreOptions,
} from '../../../src/store/index.js';
import { NO_POSTGRES, skipBecause } from '../../harness/skip.js';
import { BACKENDS, storeFixture } from './store-backends.js';

describe.each(BACKENDS)('platform store on %s', (backend) => {
  let store: Store;
  let options: StoreOptions;
  let cleanup: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const f = await storeFixture(backend, 'store');
    if (!f) return;
    ({ options, cleanup } = f);
    store = await openStore(options);
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });
  const need = (ctx: Parameters<typeof skipBecause>[0]): void => {
    if (!cleanup) skipBecause(ctx, NO_POSTGRES);
  };

  it('records a run: params, metric series with steps and times, tags, code, nested runs, status and end', async (ctx) => {
    need(ctx);
    const run = await store.startRun({ experiment: 'tracking', name: 'parent', params: { rank: 16, reg: 0.1 }, codeHash: 'abc123', gitCommit: 'deadbeef' });
    for (let step = 0; step < 5; step++) run.logMetric('loss', 1 / (step + 1), step);
    run.logMetrics({ ndcg: 0.25, hr: 0.5 }, 4);
    await run.setTag('stage', 'test');
    const child = await store.startRun({ parentRunId: run.id, name: 'trial-1', params: { rank: 8 } });
    child.logMetric('ndcg', 0.05);
    await child.end();
    await run.end();
    const got = await store.getRun(run.id);
    expect(got).toMatchObject({
      name: 'parent', experimentName: 'tracking', status: 'FINISHED', codeHash: 'abc123', gitCommit: 'deadbeef',
      params: { rank: '16', reg: '0.1' }, metrics: { loss: 0.2, ndcg: 0.25, hr: 0.5 }, tags: { stage: 'test' }, children: [child.id],
    });
    expect(got.endTime).toBeGreaterThanOrEqual(got.startTime);
    const history = await store.getMetricHistory(run.id, 'loss');
    expect(history.map((p) => [p.step, p.value])).toEqual([0, 1, 2, 3, 4].map((s) => [s, 1 / (s + 1)]));
    expect(history.every((p) => p.timestamp >= got.startTime)).toBe(true);
    expect((await store.getRunInfo(child.id)).parentRunId).toBe(run.id);
    expect((await store.getRunInfo(child.id)).experimentName).toBe('tracking');
    expect(() => run.logMetric('late', 1)).toThrow(RunEndedError);
    await expect(store.getRun('0'.repeat(32))).rejects.toThrow(RunNotFoundError);
    await expect(store.getRun('0'.repeat(32))).rejects.toThrow(/0{32}/);
  });

  it('searchRuns parses a filter expression and points at the bad token', async (ctx) => {
    need(ctx);
    for (const [rank, ndcg] of [[16, 0.3], [16, 0.05], [32, 0.4]] as const) {
      const r = await store.startRun({ experiment: 'search', params: { rank } });
      r.logMetric('ndcg', ndcg);
      await r.end();
    }
    const hits = await store.searchRuns({ experiments: ['search'], filter: "metrics.ndcg > 0.1 and params.rank = '16'" });
    expect(hits.map((r) => r.metrics.ndcg)).toEqual([0.3]);
    const ordered = await store.searchRuns({ experiments: ['search'], filter: "metrics.ndcg >= 0.05 or params.rank = '32'", orderBy: 'metrics.ndcg DESC' });
    expect(ordered.map((r) => r.metrics.ndcg)).toEqual([0.4, 0.3, 0.05]);
    const bad = await store.searchRuns({ filter: 'metrics.ndcg > and' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(FilterSyntaxError);
    expect((bad as FilterSyntaxError).position).toBe(15);
    expect((bad as FilterSyntaxError).token).toBe('and');
    await expect(store.searchRuns({ filter: 'params.rank = 16' })).rejects.toThrow(/quoted string to compare params\.rank/);
    await expect(store.searchRuns({ filter: "bogus.x = '1'" })).rejects.toThrow(FilterSyntaxError);
    await expect(store.searchRuns({ experiments: ['nope'] })).rejects.toThrow(/no experiment "nope"/);
  });

  it('stores artifacts by content hash, 0600 in 0700 folders, and names a changed byte', async (ctx) => {
    need(ctx);
    const run = await store.startRun({ experiment: 'artifacts' });
    const entry = await run.logArtifact('reports/report.html', '<h1>hello</h1>');
    await run.logArtifact('copy.html', '<h1>hello</h1>');
    expect(new TextDecoder().decode(await store.readArtifact(run.id, 'reports/report.html'))).toBe('<h1>hello</h1>');
    const blob = store.artifacts.pathOf(entry.sha256);
    expect((await stat(blob)).mode & 0o777).toBe(0o600);
    expect((await stat(join(options.artifactDir!, 'sha256'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(blob, '..'))).mode & 0o777).toBe(0o700);
    // One blob for both names; altering it is caught on read, naming the artifact.
    const bytes = await readFile(blob);
    bytes[3] = bytes[3]! ^ 1;
    await writeFile(blob, bytes);
    const err = await store.readArtifact(run.id, 'copy.html').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactCorruptError);
    expect((err as Error).message).toContain(`runs:/${run.id}/copy.html`);
    // A symlink in place of a blob is refused, not followed.
    await unlink(blob);
    await symlink('/etc/hostname', blob);
    expect((await lstat(blob)).isSymbolicLink()).toBe(true);
    await expect(store.readArtifact(run.id, 'copy.html')).rejects.toThrow(/symlink/);
    await expect(store.readArtifact(run.id, 'missing.txt')).rejects.toThrow(ArtifactNotFoundError);
    await run.end();
  });

  it('refuses artifact names that could be paths: ../, ..\\, percent-encoded, absolute, drive letters', async (ctx) => {
    need(ctx);
    const run = await store.startRun({ experiment: 'artifacts' });
    for (const name of ['../escape', 'a/../../escape', '..\\escape', 'a\\b', '%2e%2e/escape', '%2e%2e%2fescape', '/etc/passwd', 'C:\\x', 'c:/x', 'a//b', '.hidden', 'a/./b', '']) {
      await expect(run.logArtifact(name, 'x'), name).rejects.toThrow(InvalidNameError);
    }
    await expect(store.readArtifact(run.id, '../../etc/passwd')).rejects.toThrow(InvalidNameError);
    await expect(store.loadModel(`runs:/${run.id}/../x`)).rejects.toThrow(InvalidModelUriError);
    expect((await store.listArtifacts(run.id)).length).toBe(0);
    await run.end();
  });

  it('registers models, moves aliases with history, loads by URI with no code run', async (ctx) => {
    need(ctx);
    const run = await store.startRun({ experiment: 'registry' });
    const w = new Float32Array([1.5, -2, 3]);
    const ids = new Int32Array([7, 8]);
    const signature = { inputs: [{ name: 'user', type: 'int32' }], outputs: [{ name: 'scores', type: 'float32', shape: [null, 10] }] };
    const uri = await run.logModel('model', { flavor: 'test', meta: { rank: 3 }, tensors: { w, ids }, files: { 'labels.json': '["a","b"]' }, signature });
    await run.end();
    const v1 = await store.registerModel('recs', uri, { description: 'first' });
    const v2 = await store.registerModel('recs', uri);
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(v1.signature).toEqual(signature);
    expect(await store.setAlias('recs', 'champion', 1, { by: 'alice', reason: 'first model' })).toBeNull();
    expect(await store.setAlias('recs', 'champion', 2, { by: 'bob', reason: 'better ndcg' })).toBe(1);
    const history = await store.aliasHistory('recs', 'champion');
    expect(history.map((h) => [h.version, h.previousVersion, h.setBy, h.reason])).toEqual([[1, null, 'alice', 'first model'], [2, 1, 'bob', 'better ndcg']]);
    for (const u of ['models:/recs@champion', 'models:/recs/1', uri]) {
      const m = await store.loadModel(u);
      expect(m.flavor).toBe('test');
      expect(m.meta).toEqual({ rank: 3 });
      expect(Array.from(m.tensors.w as Float32Array)).toEqual([1.5, -2, 3]);
      expect(m.tensors.ids).toBeInstanceOf(Int32Array);
      expect(new TextDecoder().decode(m.files['labels.json'])).toBe('["a","b"]');
      expect(m.signature).toEqual(signature);
    }
    expect((await store.getModel('recs')).aliases).toEqual({ champion: 2 });
    await expect(store.loadModel('models:/nope@champion')).rejects.toThrow(ModelNotFoundError);
    await expect(store.loadModel('models:/recs@nope')).rejects.toThrow(AliasNotFoundError);
    await expect(store.loadModel('models:/recs@nope')).rejects.toThrow(/recs@nope/);
    await expect(store.loadModel('models:/recs/9')).rejects.toThrow(ModelVersionNotFoundError);
    await expect(store.loadModel(`runs:/${'0'.repeat(32)}/model`)).rejects.toThrow(RunNotFoundError);
    await expect(store.setAlias('recs', 'champion', 9)).rejects.toThrow(ModelVersionNotFoundError);
    await expect(store.loadModel('s3://bucket/model')).rejects.toThrow(InvalidModelUriError);
    await expect(store.setAlias('recs', 'champion', 1, { ifCurrent: 1 })).rejects.toThrow(AliasConflictError);
    await expect(store.setAlias('recs', '../x', 1)).rejects.toThrow(InvalidNameError);
  });

  it('two clients moving one alias at once: one wins, both are in the history', async (ctx) => {
    need(ctx);
    const other = await openStore(options);
    try {
      const run = await store.startRun({ experiment: 'registry' });
      const uri = await run.logModel('m', { flavor: 'test', tensors: { w: new Float32Array(4) } });
      await run.end();
      const a = await store.registerModel('race', uri);
      const b = await store.registerModel('race', uri);
      for (let round = 0; round < 5; round++) {
        await Promise.all([store.setAlias('race', 'prod', a.version, { by: 'a' }), other.setAlias('race', 'prod', b.version, { by: 'b' })]);
      }
      const history = await store.aliasHistory('race', 'prod');
      expect(history).toHaveLength(10);
      // Serialized: each move's previous version is what the move before it set.
      for (let i = 1; i < history.length; i++) expect(history[i]!.previousVersion).toBe(history[i - 1]!.version);
      expect((await store.getModel('race')).aliases.prod).toBe(history[history.length - 1]!.version);
    } finally {
      await other.close();
    }
  });

  it('dataset versions by content, and lineage both ways', async (ctx) => {
    need(ctx);
    const files = [{ path: 'ratings.parquet', sha256: 'a'.repeat(64), bytes: 10 }, { path: 'listings.parquet', sha256: 'b'.repeat(64), bytes: 20 }];
    const ds = await store.logDatasetFiles('albany', files, { rowCount: 30, schema: { user: 'int32' }, profile: { users: 3 } });
    expect((await store.logDatasetFiles('albany', [...files].reverse())).id).toBe(ds.id);
    expect((await store.logDatasetFiles('albany', [{ ...files[0]!, sha256: 'c'.repeat(64) }, files[1]!])).id).not.toBe(ds.id);
    const snap = await store.logDatasetSnapshot('warehouse', { database: 'postgres://u:secret@db:5432/w', relation: 'ratings', snapshot: '00000003-0000001B-1' }, { rowCount: 5 });
    expect(JSON.stringify(snap.source)).not.toContain('secret');
    const parent = await store.startRun({ experiment: 'lineage', params: { grid: 'rank' }, codeHash: 'c0de' });
    await parent.logInput(ds, { role: 'training' });
    await parent.logInput(snap);
    await parent.logInput('f'.repeat(64), { kind: 'feature-pipeline' });
    const child = await store.startRun({ parentRunId: parent.id, params: { rank: 16 } });
    const uri = await child.logModel('model', { flavor: 'test', tensors: { w: new Float32Array(2) } });
    await child.end();
    await parent.end();
    const v = await store.registerModel('lin', uri);
    await store.setAlias('lin', 'champion', v.version);
    await store.registry.recordDeployment('lin', v.version, 'rental-recs');
    const l = await store.lineage('models:/lin@champion');
    expect(l.run.id).toBe(child.id);
    expect(l.run.params).toEqual({ rank: '16' });
    expect(l.ancestors.map((r) => r.id)).toEqual([parent.id]);
    expect(l.ancestors[0]!.codeHash).toBe('c0de');
    expect(l.datasets.map((d) => [d.id, d.role]).sort()).toEqual([[ds.id, 'training'], [snap.id, 'input']].sort());
    expect(l.featurePipelines).toEqual(['f'.repeat(64)]);
    expect(l.deployments.map((d) => d.target)).toEqual(['rental-recs']);
    const usage = await store.datasetUsage(ds.id);
    expect(usage.runs.map((r) => r.id).sort()).toEqual([parent.id, child.id].sort());
    expect(usage.modelVersions.map((m) => `${m.name}/${m.version}`)).toEqual([`lin/${v.version}`]);
    await expect(store.datasetUsage('albany@0000')).rejects.toThrow(/no dataset version "albany@0000"/);
  });

  it('a store written by a newer shoal is refused before anything is read, and a second client sees the same runs', async (ctx) => {
    need(ctx);
    const second = await openStore(options);
    expect((await second.searchRuns({ experiments: ['tracking'] })).length).toBeGreaterThan(0);
    await second.db.run(`UPDATE store_meta SET value = '99' WHERE name = 'schema_version'`);
    await second.close();
    const err = await openStore(options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreSchemaError);
    expect((err as Error).message).toMatch(/newer shoal \(schema version 99\)/);
    await store.db.run(`UPDATE store_meta SET value = '1' WHERE name = 'schema_version'`);
  });
});
