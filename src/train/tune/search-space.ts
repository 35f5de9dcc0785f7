/**
 * Search spaces of `tune()`: each hyperparameter is a constant or a domain — `grid` (every value is
 * tried), `choice` (one value drawn per sample), `uniform`, `loguniform`, `randint`. Turning a space
 * into trial configs is deterministic for a seed, so a search can be repeated.
 */
import { InvalidOptionError } from '../errors.js';

/** Every value is tried, crossed with every other grid dimension (Ray's `grid_search`). */
export interface GridDomain<T = unknown> {
  readonly kind: 'grid';
  readonly values: readonly T[];
}
/** One of the values, drawn uniformly per sample; enumerated like a grid by `searchAlg: 'grid'`. */
export interface ChoiceDomain<T = unknown> {
  readonly kind: 'choice';
  readonly values: readonly T[];
}
/** A float drawn uniformly from [low, high). */
export interface UniformDomain {
  readonly kind: 'uniform';
  readonly low: number;
  readonly high: number;
}
/** A float whose logarithm is uniform over [log low, log high); low > 0. */
export interface LogUniformDomain {
  readonly kind: 'loguniform';
  readonly low: number;
  readonly high: number;
}
/** An integer drawn uniformly from [low, high) (high exclusive, like Ray's `randint`). */
export interface RandIntDomain {
  readonly kind: 'randint';
  readonly low: number;
  readonly high: number;
}

export type Domain = GridDomain | ChoiceDomain | UniformDomain | LogUniformDomain | RandIntDomain;
/** Hyperparameter name → domain, or a constant passed to every trial as is. */
export type SearchSpace = Readonly<Record<string, unknown>>;
export type TrialConfig = Record<string, unknown>;

const DOMAIN_KINDS = new Set(['grid', 'choice', 'uniform', 'loguniform', 'randint']);

export function grid<T>(values: readonly T[]): GridDomain<T> {
  if (!Array.isArray(values) || values.length === 0) throw new InvalidOptionError('grid() needs a non-empty array of values', { option: 'grid' });
  return { kind: 'grid', values: [...values] };
}
export function choice<T>(values: readonly T[]): ChoiceDomain<T> {
  if (!Array.isArray(values) || values.length === 0) throw new InvalidOptionError('choice() needs a non-empty array of values', { option: 'choice' });
  return { kind: 'choice', values: [...values] };
}
function range(kind: 'uniform' | 'loguniform' | 'randint', low: number, high: number): void {
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(low < high)) {
    throw new InvalidOptionError(`${kind}(low, high) needs finite numbers with low < high (got ${low}, ${high})`, { option: kind });
  }
}
export function uniform(low: number, high: number): UniformDomain {
  range('uniform', low, high);
  return { kind: 'uniform', low, high };
}
export function loguniform(low: number, high: number): LogUniformDomain {
  range('loguniform', low, high);
  if (low <= 0) throw new InvalidOptionError(`loguniform(low, high) needs low > 0 (got ${low})`, { option: 'loguniform' });
  return { kind: 'loguniform', low, high };
}
export function randint(low: number, high: number): RandIntDomain {
  range('randint', low, high);
  if (!Number.isInteger(low) || !Number.isInteger(high)) throw new InvalidOptionError(`randint(low, high) needs integers (got ${low}, ${high})`, { option: 'randint' });
  return { kind: 'randint', low, high };
}

export function isDomain(v: unknown): v is Domain {
  return typeof v === 'object' && v !== null && DOMAIN_KINDS.has((v as { kind?: unknown }).kind as string) &&
    ('values' in v || ('low' in v && 'high' in v));
}

/** A seeded generator of floats in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample(d: Domain, rand: () => number): unknown {
  switch (d.kind) {
    case 'grid':
    case 'choice':
      return d.values[Math.floor(rand() * d.values.length)];
    case 'uniform':
      return d.low + rand() * (d.high - d.low);
    case 'loguniform':
      return Math.exp(Math.log(d.low) + rand() * (Math.log(d.high) - Math.log(d.low)));
    case 'randint':
      return d.low + Math.floor(rand() * (d.high - d.low));
  }
}

/**
 * The trial configs of a search. Grid dimensions are always enumerated (their cross product); with
 * `searchAlg: 'grid'` choice dimensions are enumerated too. Every other domain is sampled, once per
 * config. The whole set is repeated `numSamples` times (Ray's BasicVariantGenerator semantics).
 */
export function generateConfigs(space: SearchSpace, searchAlg: 'grid' | 'random', numSamples: number, seed: number): TrialConfig[] {
  const rand = seededRandom(seed);
  const enumerated: [string, readonly unknown[]][] = [];
  for (const [k, v] of Object.entries(space)) {
    if (isDomain(v) && (v.kind === 'grid' || (searchAlg === 'grid' && v.kind === 'choice'))) enumerated.push([k, v.values]);
  }
  let combos: TrialConfig[] = [{}];
  for (const [k, values] of enumerated) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  const out: TrialConfig[] = [];
  for (let s = 0; s < numSamples; s++) {
    for (const combo of combos) {
      const config: TrialConfig = {};
      for (const [k, v] of Object.entries(space)) {
        if (k in combo) config[k] = combo[k];
        else config[k] = isDomain(v) ? sample(v, rand) : v;
      }
      out.push(config);
    }
  }
  return out;
}
