/**
 * The served model (served-model.ts) as the platform store keeps it: JSON metadata (ids, names,
 * rank) beside binary tensors (factors, similarity lists, the rated-listings CSR, popularity) —
 * loading it back parses JSON and wraps typed arrays, no code of the model runs.
 */
import type { ModelContents, ModelSignature, StoredModel, Tensor } from 'shoal/store';
import type { ServedModel } from './served-model.js';

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
  return {
    flavor: SERVED_MODEL_FLAVOR,
    meta: { id: m.id, name: m.name, version: m.version, rank: m.item.rank, nbhdNames: m.nbhdNames },
    files: { 'user-ids.json': JSON.stringify(m.userIds), 'listing-ids.json': JSON.stringify(m.listingIds) },
    tensors,
    signature: SERVED_MODEL_SIGNATURE,
  };
}

export function servedModelFromStored(s: StoredModel): ServedModel {
  if (s.flavor !== SERVED_MODEL_FLAVOR) throw new Error(`${s.uri} is a ${s.flavor} model, not ${SERVED_MODEL_FLAVOR}`);
  const meta = s.meta as { id: string; name: string; version: string; rank: number; nbhdNames: string[] };
  const t = s.tensors;
  const json = (name: string): string[] => JSON.parse(new TextDecoder().decode(s.files[name])) as string[];
  const get = <T extends Tensor>(k: string): T | null => (t[k] as T | undefined) ?? null;
  return {
    id: meta.id, name: meta.name, version: meta.version, userIds: json('user-ids.json'), listingIds: json('listing-ids.json'),
    user: { users: get('user.users'), ctxPtr: get('user.ctxPtr'), ctxIdx: get('user.ctxIdx'), ctxVal: get('user.ctxVal') },
    item: { rank: meta.rank, items: get('item.items'), valid: get('item.valid'), bias: get('item.bias'), simPtr: get('item.simPtr'), simIdx: get('item.simIdx'), simVal: get('item.simVal') },
    seen: { ptr: t['seen.ptr'] as Int32Array, idx: t['seen.idx'] as Int32Array },
    popularity: t.popularity as Float32Array, nbhd: t.nbhd as Int32Array, nbhdNames: meta.nbhdNames,
  };
}
