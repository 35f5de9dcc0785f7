/**
 * The served model (served-model.ts) as the platform store keeps it: JSON metadata (ids, names,
 * rank) beside binary tensors (factors, similarity lists, the rated-listings CSR, popularity) —
 * loading it back parses JSON and wraps typed arrays, no code of the model runs.
 */
import type { ModelContents, ModelSignature, StoredModel, Tensor } from 'shoal/store';
import type { ServedModel } from './served-model.js';
import type { ServedExplain } from './explain.js';

export const SERVED_MODEL_FLAVOR = 'rental-recs.served-model';

/** What serving checks before it loads a version: a user (or recently viewed listings) in, scored listings out. */
export const SERVED_MODEL_SIGNATURE: ModelSignature = {
  inputs: [{ name: 'user', type: 'string' }, { name: 'context', type: 'string[]', shape: [null] }, { name: 'neighbourhood', type: 'string' }, { name: 'k', type: 'int32' }],
  outputs: [{ name: 'items', type: '{id: string, score: float32}[]', shape: [null] }],
};

const USER = ['users', 'ctxPtr', 'ctxIdx', 'ctxVal'] as const;
const ITEM = ['items', 'valid', 'bias', 'simPtr', 'simIdx', 'simVal'] as const;

export function servedModelContents(m: ServedModel): ModelContents {
  const tensors: Record<string, Tensor> = { 'seen.ptr': m.seen.ptr, 'seen.idx': m.seen.idx, popularity: m.popularity, nbhd: m.nbhd };
  for (const k of USER) if (m.user[k]) tensors[`user.${k}`] = m.user[k]!;
  for (const k of ITEM) if (m.item[k]) tensors[`item.${k}`] = m.item[k]!;
  let explain: Record<string, unknown> | null = null;
  const e = m.explain;
  if (e?.kind === 'als') {
    explain = { kind: 'als', regParam: e.regParam, alpha: e.alpha, implicitPrefs: e.implicitPrefs };
    tensors['explain.ratings'] = e.ratings;
  } else if (e?.kind === 'additive') {
    explain = { kind: 'additive', features: e.features.map((f) => ({ name: f.name, offset: f.offset, dims: f.dims, bias: f.bias !== null, knn: f.knn !== null })) };
    e.features.forEach((f, k) => {
      if (f.bias) tensors[`explain.${k}.bias`] = f.bias;
      if (f.knn) Object.assign(tensors, { [`explain.${k}.knn.ptr`]: f.knn.ptr, [`explain.${k}.knn.idx`]: f.knn.idx, [`explain.${k}.knn.val`]: f.knn.val });
    });
  }
  return {
    flavor: SERVED_MODEL_FLAVOR,
    meta: { id: m.id, name: m.name, version: m.version, rank: m.item.rank, nbhdNames: m.nbhdNames, explain },
    files: { 'user-ids.json': JSON.stringify(m.userIds), 'listing-ids.json': JSON.stringify(m.listingIds) },
    tensors,
    signature: SERVED_MODEL_SIGNATURE,
  };
}

export function servedModelFromStored(s: StoredModel): ServedModel {
  if (s.flavor !== SERVED_MODEL_FLAVOR) throw new Error(`${s.uri} is a ${s.flavor} model, not ${SERVED_MODEL_FLAVOR}`);
  const meta = s.meta as {
    id: string; name: string; version: string; rank: number; nbhdNames: string[];
    explain?: null | { kind: 'als'; regParam: number; alpha: number; implicitPrefs: boolean } | { kind: 'additive'; features: Array<{ name: string; offset: number; dims: number; bias: boolean; knn: boolean }> };
  };
  const t = s.tensors;
  const json = (name: string): string[] => JSON.parse(new TextDecoder().decode(s.files[name])) as string[];
  const get = <T extends Tensor>(k: string): T | null => (t[k] as T | undefined) ?? null;
  let explain: ServedExplain | undefined;
  const e = meta.explain;
  if (e?.kind === 'als') explain = { ...e, ratings: t['explain.ratings'] as Float32Array };
  else if (e?.kind === 'additive') {
    explain = {
      kind: 'additive',
      features: e.features.map((f, k) => ({
        name: f.name, offset: f.offset, dims: f.dims, bias: f.bias ? get<Float32Array>(`explain.${k}.bias`) : null,
        knn: f.knn ? { ptr: t[`explain.${k}.knn.ptr`] as Int32Array, idx: t[`explain.${k}.knn.idx`] as Int32Array, val: t[`explain.${k}.knn.val`] as Float32Array } : null,
      })),
    };
  }
  return {
    explain,
    id: meta.id, name: meta.name, version: meta.version, userIds: json('user-ids.json'), listingIds: json('listing-ids.json'),
    user: { users: get('user.users'), ctxPtr: get('user.ctxPtr'), ctxIdx: get('user.ctxIdx'), ctxVal: get('user.ctxVal') },
    item: { rank: meta.rank, items: get('item.items'), valid: get('item.valid'), bias: get('item.bias'), simPtr: get('item.simPtr'), simIdx: get('item.simIdx'), simVal: get('item.simVal') },
    seen: { ptr: t['seen.ptr'] as Int32Array, idx: t['seen.idx'] as Int32Array },
    popularity: t.popularity as Float32Array, nbhd: t.nbhd as Int32Array, nbhdNames: meta.nbhdNames,
  };
}
