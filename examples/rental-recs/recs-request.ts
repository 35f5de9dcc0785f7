/**
 * The recommendations API's requests, checked: anything else is a BadRequestError (HTTP 400) that
 * says what was wrong.
 *
 *   GET  /recommendations/{user_id}?k=5&neighbourhood=Ward%201&explain=1
 *   POST /recommendations   {"user": "123", "k": 5, "context": ["<listing id>", ...], "neighbourhood": "Ward 1", "explain": true}
 *
 * `k`: an integer 1..MAX_K (default 5). `user` (POST): optional — an anonymous visitor sends the
 * listings they viewed recently as `context` (at most MAX_CONTEXT). Unknown query parameters and body
 * fields are refused; an unknown neighbourhood is refused with the known ones listed.
 */
import { BadRequestError, type ServeRequest } from 'shoal/serve';
import type { ModelIndex, RecommendationQuery } from './served-model.js';

export const MAX_K = 100;
export const DEFAULT_K = 5;
export const MAX_CONTEXT = 100;
const QUERY_KEYS = ['k', 'neighbourhood', 'explain'];
const BODY_KEYS = ['user', 'k', 'context', 'neighbourhood', 'explain'];

function parseK(v: unknown, where: 'query parameter' | 'field'): number {
  if (v === undefined) return DEFAULT_K;
  const n = where === 'query parameter' && typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_K) {
    throw new BadRequestError(`${where} k must be an integer from 1 to ${MAX_K} (got ${JSON.stringify(v)})`);
  }
  return n;
}

function parseNbhd(v: unknown, index: ModelIndex, where: string): number {
  if (v === undefined || v === '') return -1;
  if (typeof v !== 'string') throw new BadRequestError(`${where} neighbourhood must be a string (got ${JSON.stringify(v)})`);
  const i = index.nbhds.get(v.toLowerCase());
  if (i === undefined) {
    const known = index.m.nbhdNames;
    throw new BadRequestError(`unknown neighbourhood '${v}' (known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? `, … ${known.length} in all` : ''})`);
  }
  return i;
}

function parseExplain(v: unknown, where: 'query parameter' | 'field'): boolean {
  if (v === undefined) return false;
  if (where === 'query parameter' && (v === '1' || v === 'true')) return true;
  if (where === 'query parameter' && (v === '0' || v === 'false')) return false;
  if (where === 'field' && typeof v === 'boolean') return v;
  throw new BadRequestError(`${where} explain must be ${where === 'field' ? 'true or false' : '1, true, 0 or false'} (got ${JSON.stringify(v)})`);
}

const idString = (v: unknown): string | undefined =>
  (typeof v === 'string' && v.length > 0 && v.length <= 64) ? v : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : undefined;

/** The query of a GET or POST to the recommendations route. */
export function parseRecommendationRequest(req: ServeRequest, index: ModelIndex): RecommendationQuery {
  if (req.method === 'GET') {
    const m = /^\/([^/]+)$/.exec(req.path);
    if (!m) throw new BadRequestError(`GET needs a user id: /recommendations/{user_id} (got path ${JSON.stringify(req.path)})`);
    for (const key of Object.keys(req.query)) {
      if (!QUERY_KEYS.includes(key)) throw new BadRequestError(`unknown query parameter '${key}' (parameters: ${QUERY_KEYS.join(', ')})`);
    }
    let user: string;
    try {
      user = decodeURIComponent(m[1]!);
    } catch {
      throw new BadRequestError(`the user id in the path is not valid percent-encoding (got ${JSON.stringify(m[1])})`);
    }
    return {
      user, k: parseK(req.query.k, 'query parameter'), nbhd: parseNbhd(req.query.neighbourhood, index, 'query parameter'), context: [], unknownContext: 0,
      explain: parseExplain(req.query.explain, 'query parameter'),
      ...(req.holdout ? { holdout: true } : {}),
    };
  }
  if (req.method !== 'POST') throw new BadRequestError(`method ${req.method} is not served: GET /recommendations/{user_id} or POST /recommendations`);
  if (req.path !== '/') throw new BadRequestError(`POST goes to /recommendations itself (got path ${JSON.stringify(req.path)}); the user is a body field`);
  const body = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError(`the body must be a JSON object with fields ${BODY_KEYS.join(', ')} (got ${body === undefined ? 'no body' : Array.isArray(body) ? 'an array' : typeof body})`);
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!BODY_KEYS.includes(key)) throw new BadRequestError(`unknown field '${key}' (fields: ${BODY_KEYS.join(', ')})`);
  }
  let user: string | null = null;
  if (b.user !== undefined && b.user !== null) {
    user = idString(b.user) ?? null;
    if (user === null) throw new BadRequestError(`field user must be a user id (a string or an integer; got ${JSON.stringify(b.user)})`);
  }
  const context: number[] = [];
  let unknownContext = 0;
  if (b.context !== undefined) {
    if (!Array.isArray(b.context) || b.context.length > MAX_CONTEXT) {
      throw new BadRequestError(`field context must be an array of at most ${MAX_CONTEXT} listing ids (got ${Array.isArray(b.context) ? `${b.context.length} ids` : JSON.stringify(b.context)})`);
    }
    b.context.forEach((v: unknown, i: number) => {
      const id = idString(v);
      if (id === undefined) throw new BadRequestError(`field context[${i}] must be a listing id (a string or an integer; got ${JSON.stringify(v)})`);
      const at = index.listings.get(id);
      if (at === undefined) unknownContext++;
      else if (!context.includes(at)) context.push(at);
    });
  }
  return {
    user, k: parseK(b.k, 'field'), nbhd: parseNbhd(b.neighbourhood, index, 'field'), context, unknownContext, explain: parseExplain(b.explain, 'field'),
    ...(req.holdout ? { holdout: true } : {}),
  };
}
