/**
 * The definitions a feature store serves, and how `view:feature` references resolve against them:
 * which stored features of which views to read, which on-demand views to run on them, and the
 * output column of each reference. Unknown views and features fail naming what exists.
 */
import { invalidOption } from '../errors.js';
import type { Definition, Entity, EntityKeyType, FeatureSpec, FeatureView, OnDemandFeatureView } from './definitions.js';
import { EntityKeyTypeError, FeatureSourceError, UnknownEntityError, UnknownFeatureError, UnknownFeatureViewError } from './errors.js';

export interface ResolvedFeatures {
  /** Stored features to read, per view (including those only on-demand views need). */
  readonly views: readonly { readonly view: FeatureView; readonly features: readonly FeatureSpec[] }[];
  readonly onDemand: readonly { readonly view: OnDemandFeatureView }[];
  /** The output columns, in the order requested. */
  readonly outputs: readonly string[];
}

export class FeatureCatalog {
  readonly entities = new Map<string, Entity>();
  readonly views = new Map<string, FeatureView>();
  readonly onDemand = new Map<string, OnDemandFeatureView>();
  /** Views known by name that cannot be used here, with the reason (see from-registry.ts). */
  readonly unavailable = new Map<string, string>();
  /** Resolutions by their references (a serving process asks for the same list on every request); cleared by add(). */
  private readonly resolved = new Map<string, ResolvedFeatures>();

  add(defs: readonly Definition[]): void {
    this.resolved.clear();
    for (const d of defs) {
      if (d.kind === 'entity') this.entities.set(d.name, d);
      else if (d.kind === 'featureView') {
        for (const e of d.entities) this.entities.set(e.name, e);
        this.views.set(d.name, d);
      } else this.onDemand.set(d.name, d);
    }
  }

  private allViewNames(): string[] {
    return [...new Set([...this.views.keys(), ...this.onDemand.keys(), ...this.unavailable.keys()])].sort();
  }

  /** The entity named `name`; UnknownEntityError listing the defined ones otherwise. */
  entity(name: string): Entity {
    const e = this.entities.get(name);
    if (e === undefined) throw new UnknownEntityError(name, [...this.entities.keys()].sort());
    return e;
  }

  view(name: string): FeatureView {
    const v = this.views.get(name);
    const why = this.unavailable.get(name);
    if (v === undefined && why !== undefined) throw new FeatureSourceError(name, why);
    if (v === undefined) throw new UnknownFeatureViewError(name, this.allViewNames());
    return v;
  }

  private parse(ref: string): { view: string; feature: string } {
    const m = typeof ref === 'string' ? /^([^:]+):([^:]+)$/.exec(ref) : null;
    if (m === null) throw invalidOption('features', `must be "view:feature" references; got ${JSON.stringify(ref)}`, { stage: 'FeatureStore' });
    return { view: m[1]!, feature: m[2]! };
  }

  resolve(refs: readonly string[]): ResolvedFeatures {
    if (!Array.isArray(refs) || refs.length === 0) throw invalidOption('features', 'must be a non-empty list of "view:feature" references', { stage: 'FeatureStore' });
    const cacheKey = refs.join('\n');
    const cached = this.resolved.get(cacheKey);
    if (cached !== undefined) return cached;
    const out = this.resolveUncached(refs);
    if (this.resolved.size >= 256) this.resolved.clear();
    this.resolved.set(cacheKey, out);
    return out;
  }

  private resolveUncached(refs: readonly string[]): ResolvedFeatures {
    const stored = new Map<string, Map<string, FeatureSpec>>();
    const onDemand = new Map<string, OnDemandFeatureView>();
    const outputs: string[] = [];
    const owner = new Map<string, string>();
    const need = (viewName: string, feature: string): FeatureSpec => {
      const v = this.view(viewName);
      const f = v.features.find((x) => x.name === feature);
      if (f === undefined) throw new UnknownFeatureError(viewName, feature, v.features.map((x) => x.name));
      let m = stored.get(viewName);
      if (m === undefined) stored.set(viewName, (m = new Map()));
      m.set(feature, f);
      return f;
    };
    for (const ref of refs) {
      const { view, feature } = this.parse(ref);
      const odfv = this.onDemand.get(view);
      if (odfv === undefined && this.unavailable.has(view)) this.view(view);
      if (odfv !== undefined) {
        if (!odfv.features.some((f) => f.name === feature)) throw new UnknownFeatureError(view, feature, odfv.features.map((f) => f.name));
        for (const s of odfv.sources) {
          const p = this.parse(s);
          need(p.view, p.feature);
        }
        onDemand.set(view, odfv);
      } else need(view, feature);
      const prev = owner.get(feature);
      if (prev !== undefined && prev !== view) throw invalidOption('features', `"${prev}:${feature}" and "${view}:${feature}" would both be column "${feature}"; request one of them`, { stage: 'FeatureStore' });
      owner.set(feature, view);
      if (!outputs.includes(feature)) outputs.push(feature);
    }
    return {
      views: [...stored].map(([name, fs]) => ({ view: this.views.get(name)!, features: [...fs.values()] })),
      onDemand: [...onDemand.values()].map((view) => ({ view })),
      outputs,
    };
  }
}

/** A join key value checked against the entity's key type, as the string the online store keys on. */
export function keyPart(value: unknown, keyType: EntityKeyType, joinKey: string, where: string): string {
  if (keyType === 'int64') {
    if (typeof value === 'bigint') return String(value);
    if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  } else if (typeof value === 'string') return value;
  // Described only here: a lookup builds a key per entity row, and the message is for the rare bad one.
  const actual = value === null || value === undefined ? 'nothing (the key is missing)' : typeof value === 'number' && !Number.isInteger(value) ? `the non-integer ${value}` : `${typeof value} ${JSON.stringify(typeof value === 'bigint' ? String(value) : value)}`;
  throw new EntityKeyTypeError(joinKey, keyType, actual, where);
}

/** The online store key of one entity row for `view` (its join keys, type-checked). */
export function entityKey(view: FeatureView, row: Readonly<Record<string, unknown>>, where: string): string {
  const e0 = view.entities[0]!;
  if (view.entities.length === 1 && e0.joinKeys.length === 1) return keyPart(row[e0.joinKeys[0]!], e0.keyType, e0.joinKeys[0]!, where);
  const parts: string[] = [];
  for (const e of view.entities) for (const k of e.joinKeys) parts.push(keyPart(row[k], e.keyType, k, where));
  return JSON.stringify(parts);
}
