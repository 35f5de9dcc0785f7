/**
 * The store's JSON REST API, for the dashboard and for scripts: read-mostly views of runs, metrics,
 * models and lineage, and one write (moving an alias). It is a plain node:http handler with the auth
 * check injected, so the head serves it behind the cluster token (extension.ts) and the dashboard
 * mounts the same handler behind its cookie login. Path segments and query values are only ever
 * looked up in the database (names checked by names.ts): no client string becomes a server path.
 *
 *   GET  /api/store/experiments
 *   GET  /api/store/runs?experiment=&filter=&limit=&offset=&order=
 *   GET  /api/store/runs/:id                      (id or unique prefix)
 *   GET  /api/store/runs/:id/metrics/:key         (key may hold '/')
 *   GET  /api/store/compare?runs=a,b
 *   GET  /api/store/models
 *   GET  /api/store/models/:name
 *   GET  /api/store/lineage?uri=models:/x@champion
 *   GET  /api/store/pipelines                     (each pipeline with runs: how many, its newest run and status)
 *   GET  /api/store/pipeline-runs?pipeline=&limit=&offset=   (newest first; each with its step counts by state)
 *   GET  /api/store/pipeline-runs/:id             (id or unique prefix of ≥ 6: the DAG and every step — state, times,
 *                                                  duration, cache hit, attempts, error, input and output artifacts)
 *   GET  /api/store/pipeline-runs/:id/logs?step=&offset=&limit=   (a step's log lines with seq ≥ offset; `next` to ask for next)
 *   POST /api/store/models/:name/aliases/:alias   {"version": 7, "reason": "...", "ifCurrent": 6 | null}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkName } from '../names.js';
import { StoreRequestError } from '../errors.js';
import { lineageGraph } from '../lineage-graph.js';
import { PipelineViews, type PipelineRunSummary, type PipelineRunView, type PipelineSummary, type StepLogPage } from '../pipeline-views.js';
import type { Store } from '../store.js';
import type { DatasetVersion, RunDetail } from '../store-types.js';
import { Query, readJsonObject, sendError, sendJson, sendThrown } from './http-json.js';

/** Where the API is served unless told otherwise. */
export const STORE_API_PREFIX = '/api/store';
/** Runs one `GET /runs` returns when `limit` is not given, and at most. */
export const RUNS_PAGE_DEFAULT = 100;
export const RUNS_PAGE_MAX = 1000;
/** Pipeline runs one `GET /pipeline-runs` returns when `limit` is not given, and at most. */
export const PIPELINE_RUNS_PAGE_DEFAULT = 50;
export const PIPELINE_RUNS_PAGE_MAX = 500;
/** Log lines one `GET /pipeline-runs/:id/logs` returns when `limit` is not given, and at most. */
export const STEP_LOG_PAGE_DEFAULT = 1000;
export const STEP_LOG_PAGE_MAX = 10_000;
/** Longest pipeline name a filter takes (and step name). */
const MAX_PIPELINE_NAME = 200;
/** Longest alias-move reason kept. */
const MAX_REASON = 1000;

/** Options of {@link storeApi}. */
export interface StoreApiOptions {
  /**
   * Whether the request may use the API; called before anything else. `write` is true for the
   * alias move (a caller can ask for more there, e.g. the dashboard's CSRF header). Required: the
   * API has no open mode.
   */
  authorize(req: IncomingMessage, access: { write: boolean }): boolean | Promise<boolean>;
  /** Who an alias move is recorded as (its history's `setBy`). @default 'rest-api' */
  actor?: ((req: IncomingMessage) => string) | undefined;
  /** Path prefix the API answers under. @default '/api/store' */
  prefix?: string | undefined;
}

/** Serves one request; never rejects (every failure is a JSON reply). */
export type StoreApiHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** `GET /runs/:id`: the run with its dataset inputs resolved to their versions. */
export interface RunReply extends RunDetail {
  datasets: Array<DatasetVersion & { role: string }>;
}

/** `GET /runs/:id/metrics/:key`. */
export interface MetricSeriesReply {
  runId: string;
  key: string;
  points: Array<{ step: number; time: number; value: number }>;
}

/** `GET /pipelines`. */
export interface PipelinesReply {
  pipelines: PipelineSummary[];
}

/** `GET /pipeline-runs`: a page of the runs, newest first, and how many there are. */
export interface PipelineRunsReply {
  runs: PipelineRunSummary[];
  total: number;
  offset: number;
  limit: number;
}

/** `GET /pipeline-runs/:id`. */
export type PipelineRunReply = PipelineRunView;

/** `GET /pipeline-runs/:id/logs?step=`. */
export type StepLogReply = StepLogPage;

type Route = (store: Store, ctx: { req: IncomingMessage; segments: string[]; url: URL }) => Promise<unknown>;

/**
 * Builds the API's handler over `store` (or a function opening it on first use, so a head starts
 * even while the database is down: requests then answer 503 until it is reachable).
 */
export function storeApi(store: Store | (() => Promise<Store>), options: StoreApiOptions): StoreApiHandler {
  if (typeof options?.authorize !== 'function') throw new StoreRequestError(400, 'storeApi options.authorize', 'must be a function (req) => boolean');
  const prefix = (options.prefix ?? STORE_API_PREFIX).replace(/\/+$/, '');
  const getStore = typeof store === 'function' ? store : () => Promise.resolve(store);
  const actor = options.actor ?? (() => 'rest-api');

  return async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://store');
      const write = req.method === 'POST';
      if (!(await options.authorize(req, { write }))) {
        return sendError(res, 401, 'UNAUTHORIZED', 'the store API needs the cluster token (Authorization: Bearer <token>)', undefined, { 'www-authenticate': 'Bearer realm="shoal"' });
      }
      const path = url.pathname;
      if (path !== prefix && !path.startsWith(`${prefix}/`)) return sendError(res, 404, 'STORE_API_NOT_FOUND', `no store API path ${JSON.stringify(path)}`);
      const segments = path.slice(prefix.length).split('/').slice(1).map(decodeSegment);
      const found = match(req.method ?? 'GET', segments, actor);
      if (!found) return sendError(res, 404, 'STORE_API_NOT_FOUND', `no store API path ${JSON.stringify(path)}`);
      if (found === 'method') throw new StoreRequestError(405, `method ${req.method ?? ''}`, `is not allowed on ${path}`);
      sendJson(res, 200, await found(await getStore(), { req, segments, url }));
    } catch (err) {
      sendThrown(res, err);
    }
  };
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new StoreRequestError(400, 'path segment', `${JSON.stringify(s.slice(0, 60))} is not valid percent-encoding`);
  }
}

/** The route for `method` and `segments`: a route, 'method' when the path exists for another method, or undefined. */
function match(method: string, seg: string[], actor: (req: IncomingMessage) => string): Route | 'method' | undefined {
  const get = (r: Route): Route | 'method' => (method === 'GET' ? r : 'method');
  const [head, id, sub, ...rest] = seg;
  switch (head) {
    case 'experiments':
      return seg.length === 1 ? get(experiments) : undefined;
    case 'runs':
      if (seg.length === 1) return get(runs);
      if (seg.length === 2 && id) return get(run);
      if (seg.length >= 4 && id && sub === 'metrics' && rest.join('/') !== '') return get(metricSeries);
      return undefined;
    case 'compare':
      return seg.length === 1 ? get(compare) : undefined;
    case 'models':
      if (seg.length === 1) return get(models);
      if (seg.length === 2 && id) return get(model);
      if (seg.length === 4 && id && sub === 'aliases' && rest[0]) return method === 'POST' ? moveAlias(actor) : 'method';
      return undefined;
    case 'lineage':
      return seg.length === 1 ? get(lineage) : undefined;
    case 'pipelines':
      return seg.length === 1 ? get(pipelines) : undefined;
    case 'pipeline-runs':
      if (seg.length === 1) return get(pipelineRuns);
      if (seg.length === 2 && id) return get(pipelineRun);
      if (seg.length === 3 && id && sub === 'logs') return get(stepLog);
      return undefined;
    default:
      return undefined;
  }
}

const experiments: Route = async (store, { url }) => {
  new Query(url.searchParams, []);
  return { experiments: await store.listExperiments() };
};

const runs: Route = async (store, { url }) => {
  const q = new Query(url.searchParams, ['experiment', 'filter', 'limit', 'offset', 'order'], ['experiment']);
  const experimentNames = q.list('experiment');
  for (const e of experimentNames) checkName('experiment name', e);
  const limit = q.integer('limit', RUNS_PAGE_DEFAULT, 1, RUNS_PAGE_MAX);
  const offset = q.integer('offset', 0, 0, 1_000_000_000);
  const all = await store.searchRuns({ experiments: experimentNames, filter: q.string('filter'), orderBy: q.string('order', 300), limit: Number.MAX_SAFE_INTEGER });
  return { runs: all.slice(offset, offset + limit), total: all.length, offset, limit };
};

const run: Route = async (store, { url, segments }) => {
  new Query(url.searchParams, []);
  const detail = await store.getRun(await store.resolveRunId(segments[1]!));
  const datasets: RunReply['datasets'] = [];
  for (const i of detail.inputs) if (i.kind === 'dataset') datasets.push({ ...(await store.getDatasetVersion(i.ref)), role: i.role });
  const reply: RunReply = { ...detail, datasets };
  return reply;
};

const metricSeries: Route = async (store, { url, segments }) => {
  new Query(url.searchParams, []);
  const runId = await store.resolveRunId(segments[1]!);
  const key = segments.slice(3).join('/');
  const points = await store.getMetricHistory(runId, key);
  const reply: MetricSeriesReply = { runId, key, points: points.map((p) => ({ step: p.step, time: p.timestamp, value: p.value })) };
  return reply;
};

const compare: Route = async (store, { url }) => {
  const q = new Query(url.searchParams, ['runs']);
  const ids = q.list('runs');
  if (ids.length !== 2) throw new StoreRequestError(400, "query parameter 'runs'", `must name exactly two runs, comma-separated (runs=a,b); got ${ids.length}`);
  return store.compareRuns(ids[0]!, ids[1]!);
};

const models: Route = async (store, { url }) => {
  new Query(url.searchParams, []);
  return { models: await store.listModels() };
};

const model: Route = async (store, { url, segments }) => {
  new Query(url.searchParams, []);
  const name = checkName('model name', segments[1]);
  const [m, versions, history] = await Promise.all([store.getModel(name), store.listModelVersions(name), store.aliasHistory(name)]);
  return { model: m, versions, history };
};

const lineage: Route = async (store, { url }) => {
  const q = new Query(url.searchParams, ['uri']);
  const l = await store.lineage(q.required('uri', 1024));
  return { ...l, ...lineageGraph(l) };
};

const pipelines: Route = async (store, { url }) => {
  new Query(url.searchParams, []);
  const reply: PipelinesReply = { pipelines: await new PipelineViews(store).pipelines() };
  return reply;
};

const pipelineRuns: Route = async (store, { url }) => {
  const q = new Query(url.searchParams, ['pipeline', 'limit', 'offset']);
  const pipeline = q.string('pipeline', MAX_PIPELINE_NAME) || undefined;
  const limit = q.integer('limit', PIPELINE_RUNS_PAGE_DEFAULT, 1, PIPELINE_RUNS_PAGE_MAX);
  const offset = q.integer('offset', 0, 0, 1_000_000_000);
  const { runs: list, total } = await new PipelineViews(store).listRuns({ pipeline, limit, offset });
  const reply: PipelineRunsReply = { runs: list, total, offset, limit };
  return reply;
};

const pipelineRun: Route = async (store, { url, segments }) => {
  new Query(url.searchParams, []);
  const reply: PipelineRunReply = await new PipelineViews(store).getRun(segments[1]!);
  return reply;
};

const stepLog: Route = async (store, { url, segments }) => {
  const q = new Query(url.searchParams, ['step', 'offset', 'limit']);
  const step = q.required('step', MAX_PIPELINE_NAME);
  const offset = q.integer('offset', 0, 0, 1_000_000_000);
  const limit = q.integer('limit', STEP_LOG_PAGE_DEFAULT, 1, STEP_LOG_PAGE_MAX);
  const reply: StepLogReply = await new PipelineViews(store).stepLog(segments[1]!, step, offset, limit);
  return reply;
};

const moveAlias = (actor: (req: IncomingMessage) => string): Route => async (store, { req, url, segments }) => {
  new Query(url.searchParams, []);
  const name = checkName('model name', segments[1]);
  const alias = checkName('alias', segments[3]);
  const body = await readJsonObject(req);
  for (const k of Object.keys(body)) {
    if (!['version', 'reason', 'ifCurrent'].includes(k)) throw new StoreRequestError(400, `body field '${k}'`, 'is not known (version, reason, ifCurrent)');
  }
  const version = body.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw new StoreRequestError(400, "body field 'version'", `must be a positive integer; got ${JSON.stringify(version)}`);
  const reason = body.reason;
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON)) throw new StoreRequestError(400, "body field 'reason'", `must be a string of at most ${MAX_REASON} characters`);
  const ifCurrent = body.ifCurrent;
  if (ifCurrent !== undefined && ifCurrent !== null && (typeof ifCurrent !== 'number' || !Number.isInteger(ifCurrent) || ifCurrent < 1)) {
    throw new StoreRequestError(400, "body field 'ifCurrent'", `must be a positive integer or null; got ${JSON.stringify(ifCurrent)}`);
  }
  const previousVersion = await store.setAlias(name, alias, version, { reason, by: actor(req), ifCurrent: ifCurrent as number | null | undefined });
  return { name, alias, version, previousVersion };
};
