/**
 * The rental model, live (examples/rental-recs/live.ts), on the embedded Albany data: the job's
 * served model as replicas behind the real ingress over real HTTP — a known user's top-k (unrated,
 * ordered, the model's version), the popular fallback for an unknown user (in a neighbourhood when
 * asked), an anonymous visitor's recently viewed listings, the typed 400s for bad input, and the
 * exposure log's rows matching the answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParquet } from 'shoal/data';
import { createServeKey, type ParquetExposureLog, type Serve } from 'shoal/serve';
import { FoldInSolver } from 'shoal/train';
import { TestCluster } from '../../harness/test-cluster.js';
import { call, pool } from '../../fixtures/serve/http-client.js';
import { albanyDataDir } from '../../../examples/albany-data.js';
import { runJob, type JobResult } from '../../../examples/rental-recs/job.js';
import { htmlReport } from '../../../examples/rental-recs/report.js';
import { serveModel } from '../../../examples/rental-recs/live.js';
import { parseArgs } from '../../../examples/rental-recs/main.js';
import type { ServedModel } from '../../../examples/rental-recs/served-model.js';

let tc: TestCluster;
let serve: Serve;
let exposure: ParquetExposureLog;
let model: ServedModel;
let report: { html: string; explanations: JobResult['explanations']; importance: JobResult['hybridImportance'] };
let key: string;
let url: string;
const dir = mkdtempSync(join(tmpdir(), 'shoal-rental-live-'));

beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
  const result = await runJob({
    input: albanyDataDir(), dataDir: join(dir, 'tables'), neural: false, serve: 'als', keepModel: true,
    grid: { rank: [8], regParam: [0.1], maxIter: [4] }, log: () => undefined,
  });
  model = result.model!;
  report = { html: htmlReport(result), explanations: result.explanations, importance: result.hybridImportance };
  const keysFile = join(dir, 'keys.json');
  key = createServeKey({ file: keysFile });
  ({ serve, exposure } = await serveModel(model, { port: 0, clusterTokenFile: tc.cluster.head.tokenFile, serveKeysFile: keysFile, exposureDir: join(dir, 'exposures'), flushIntervalMs: 100 }));
  url = `${serve.url}/recommendations`;
}, 300_000);

afterAll(async () => {
  await serve?.shutdown();
  await tc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const seenOf = (u: number): Set<string> => new Set(Array.from(model.seen.idx.subarray(model.seen.ptr[u]!, model.seen.ptr[u + 1]!), (i) => model.listingIds[i]!));
const popularOrder = (nbhd = -1): string[] =>
  model.listingIds.map((id, i) => ({ id, i, p: model.popularity[i]! })).filter((l) => nbhd < 0 || model.nbhd[l.i] === nbhd)
    .sort((a, b) => b.p - a.p || a.i - b.i).map((l) => l.id);

describe('GET /recommendations/{user_id}', () => {
  it("answers a known user with k unrated listings, best first, and the model's version", async () => {
    const u = model.userIds.findIndex((_, i) => model.seen.ptr[i + 1]! - model.seen.ptr[i]! >= 2);
    const r = await call(`${url}/${model.userIds[u]}?k=7`, { key });
    expect(r.status).toBe(200);
    expect(r.headers['x-shoal-version']).toBe(model.version);
    expect(r.body).toMatchObject({ user: model.userIds[u], version: model.version, fallback: null, model: expect.stringMatching(/^ALS/) });
    const items = r.body.items as Array<{ id: string; score: number }>;
    expect(items).toHaveLength(7);
    const seen = seenOf(u);
    for (const it of items) expect(seen.has(it.id), `recommended ${it.id}, which the user rated`).toBe(false);
    for (let i = 1; i < items.length; i++) expect(items[i]!.score).toBeLessThanOrEqual(items[i - 1]!.score);
    expect(new Set(items.map((i) => i.id)).size).toBe(7);
  });

  it('gives an unknown user the popular listings (the documented fallback), never a 500', async () => {
    const r = await call(`${url}/no-such-user-0?k=5`, { key });
    expect(r.status).toBe(200);
    expect(r.body.fallback).toEqual({ reason: 'unknown user no-such-user-0', by: 'popular' });
    expect(r.body.items.map((i: { id: string }) => i.id)).toEqual(popularOrder().slice(0, 5));
  });

  it('restricts the fallback to the requested neighbourhood', async () => {
    const nb = model.nbhd[model.popularity.indexOf(Math.max(...model.popularity))]!;
    expect(nb).toBeGreaterThanOrEqual(0);
    const name = model.nbhdNames[nb]!;
    const r = await call(`${url}/nobody?k=3&neighbourhood=${encodeURIComponent(name)}`, { key });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ neighbourhood: name, fallback: { by: 'popular in neighbourhood' } });
    expect(r.body.items.map((i: { id: string }) => i.id)).toEqual(popularOrder(nb).slice(0, 3));
  });

  it.each([
    ['k=0', /k must be an integer from 1 to 100 \(got "0"\)/],
    ['k=abc', /k must be an integer from 1 to 100 \(got "abc"\)/],
    ['k=2.5', /k must be an integer/],
    ['k=101', /k must be an integer from 1 to 100/],
    ['kk=3', /unknown query parameter 'kk'/],
    ['neighbourhood=Atlantis', /unknown neighbourhood 'Atlantis' \(known: /],
  ])('refuses %s with a 400 saying what was wrong', async (query, message) => {
    const r = await call(`${url}/${model.userIds[0]}?${query}`, { key });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'SERVE_BAD_REQUEST', error: expect.stringMatching(message) });
    expect(r.headers['x-request-id']).toBe(r.body.requestId);
  });

  it('refuses a GET without a user id', async () => {
    const r = await call(url, { key });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/GET needs a user id/);
  });
});

describe('GET /recommendations/{user_id}?explain=1 (ALS: the past stays behind each score)', () => {
  it('says which past stays contributed most; the contributions are the exact refit\'s split of the score', async () => {
    const u = model.userIds.findIndex((_, i) => model.seen.ptr[i + 1]! - model.seen.ptr[i]! >= 3);
    const r = await call(`${url}/${model.userIds[u]}?k=4&explain=1`, { key });
    expect(r.status).toBe(200);
    const e = model.explain!;
    expect(e.kind).toBe('als');
    if (e.kind !== 'als') return;
    // The user's exact refit against the served listing factors: what the contributions add up to.
    const a = model.seen.ptr[u]!;
    const b = model.seen.ptr[u + 1]!;
    const x = new FoldInSolver(model.item.items!, { rank: model.item.rank, regParam: e.regParam, alpha: e.alpha, implicitPrefs: e.implicitPrefs, nonnegative: false, cgSteps: 3 })
      .solve(model.seen.idx.subarray(a, b), e.ratings.subarray(a, b));
    const seen = seenOf(u);
    for (const item of r.body.items as Array<{ id: string; score: number; explanation: { method: string; explainedScore: number; historySize: number; because: Array<{ listing: string; contribution: number; share: number }> } }>) {
      const ex = item.explanation;
      expect(ex.method).toBe('als-history');
      expect(ex.historySize).toBe(b - a);
      const i = model.listingIds.indexOf(item.id);
      let refit = 0;
      for (let f = 0; f < model.item.rank; f++) refit += x[f]! * model.item.items![i * model.item.rank + f]!;
      expect(ex.explainedScore).toBeCloseTo(refit, 4);
      expect(ex.because.length).toBe(Math.min(3, b - a));
      for (const c of ex.because) {
        expect(seen.has(c.listing), `${c.listing} is not one of the user's stays`).toBe(true);
        expect(c.share).toBeCloseTo(c.contribution / ex.explainedScore, 9);
      }
      for (let k = 1; k < ex.because.length; k++) expect(ex.because[k]!.contribution).toBeLessThanOrEqual(ex.because[k - 1]!.contribution);
    }
  });

  it('without explain, no explanation; a fallback cannot be explained and says so; a bad value is a 400', async () => {
    const u = model.userIds.findIndex((_, i) => model.seen.ptr[i + 1]! - model.seen.ptr[i]! >= 1);
    const plain = await call(`${url}/${model.userIds[u]}?k=2`, { key });
    expect(plain.body.items.every((i: Record<string, unknown>) => !('explanation' in i))).toBe(true);
    const fb = await call(`${url}/no-such-user-9?k=2&explain=true`, { key });
    expect(fb.status).toBe(200);
    expect(fb.body.items[0].explanation).toEqual({ unavailable: expect.stringContaining('fallback') as string });
    const bad = await call(`${url}/${model.userIds[u]}?explain=yes`, { key });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('query parameter explain must be 1, true, 0 or false (got "yes")');
  });
});

describe('the HTML report', () => {
  it("shows the served model's explanations and the hybrid's permutation importance on validation", () => {
    expect(report.explanations).toHaveLength(3);
    for (const u of report.explanations) for (const i of u.items) expect(i.explanation).toMatchObject({ method: 'als-history' });
    expect(report.html).toContain('Why these recommendations');
    expect(report.html).toContain('because you stayed at');
    expect(report.importance!.features.map((f) => f.feature)).toContain('same neighbourhood');
    expect(report.importance!.baseline).toBeGreaterThan(0.5);
    expect(report.html).toContain('Global feature importance (hybrid, permutation on validation)');
  });
});

describe('POST /recommendations', () => {
  it("scores an anonymous visitor's recently viewed listings and never shows them back", async () => {
    const viewed = popularOrder().slice(0, 3);
    const r = await call(url, { key, body: { context: [...viewed, '999999999999999'], k: 10 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ user: null, fallback: null, unknownContext: 1 });
    const ids = r.body.items.map((i: { id: string }) => i.id) as string[];
    expect(ids).toHaveLength(10);
    for (const v of viewed) expect(ids).not.toContain(v);
  });

  it('takes a known user in the body like the GET', async () => {
    const u = model.userIds[1]!;
    const [a, b] = await Promise.all([call(url, { key, body: { user: u, k: 4 } }), call(`${url}/${u}?k=4`, { key })]);
    expect(a.status).toBe(200);
    expect(a.body.items).toEqual(b.body.items);
  });

  it.each([
    [{ user: '1', k: 5, colour: 'red' }, /unknown field 'colour' \(fields: user, k, context, neighbourhood, explain\)/],
    [{ k: -1 }, /field k must be an integer from 1 to 100 \(got -1\)/],
    [{ k: '5' }, /field k must be an integer/],
    [{ context: 'abc' }, /field context must be an array of at most 100 listing ids/],
    [{ context: [{}] }, /field context\[0\] must be a listing id/],
    [{ user: { id: 1 } }, /field user must be a user id/],
    [[1, 2], /the body must be a JSON object/],
  ])('refuses %j with a 400 saying what was wrong', async (body, message) => {
    const r = await call(url, { key, body });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'SERVE_BAD_REQUEST', error: expect.stringMatching(message) });
  });

  it('still needs the serving key', async () => {
    expect((await call(`${url}/${model.userIds[0]}`)).status).toBe(401);
  });
});

describe('exposure log', () => {
  it('records each answer: request id, user, the listings shown in order, version, arm', async () => {
    const replies = await pool(20, 4, (i) => call(`${url}/${model.userIds[i]}?k=3`, { key }));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    await exposure.flush();
    const rows = (await readParquet(join(dir, 'exposures')).collect()).toArray().map((r) => r.toJSON() as Record<string, unknown>);
    const byId = new Map(rows.map((r) => [String(r.request_id), r]));
    for (const r of replies) {
      const row = byId.get(String(r.headers['x-request-id']));
      expect(row, 'an exposure row per answer').toBeDefined();
      expect(row!.user).toBe(r.body.user);
      expect([...(row!.items as Iterable<string>)]).toEqual(r.body.items.map((i: { id: string }) => i.id));
      expect(row!).toMatchObject({ model_version: model.version, arm: 'stable' });
    }
  });
});

describe('npm start flags', () => {
  it('--serve (or --live, which also applies new ratings) serves; --serve MODEL still picks the model; --model too', () => {
    expect(parseArgs(['--live', '--port', '9001'])).toMatchObject({ live: { port: 9001, host: '127.0.0.1', replicas: 2 }, keepModel: true });
    expect(parseArgs(['--serve'])).toMatchObject({ live: { port: 8000 } });
    expect(parseArgs(['--serve', 'als'])).toMatchObject({ serve: 'als' });
    expect(parseArgs(['--serve', 'als']).live).toBeUndefined();
    expect(parseArgs(['--serve', '--port', '0', '--model', 'knn'])).toMatchObject({ serve: 'knn', live: { port: 0 } });
    expect(() => parseArgs(['--port', '80'])).toThrow(/--port, --host and --replicas go with --serve or --live/);
    expect(() => parseArgs(['--live', '--port', 'x'])).toThrow(/--port needs an integer from 0 to 65535 \(got x\)/);
    expect(() => parseArgs(['--model', 'magic'])).toThrow(/--model must be one of best, popular/);
  });
});
