/**
 * The JSON form of definitions (what a registry stores and versions) and the pure rule applying new
 * specs to a registry snapshot: an unchanged spec keeps its version, a changed one gets the next, and
 * a feature whose type changes under the same name is refused. Any registry backend (the file one
 * here, a platform-store one later) applies through `planApply` so the rule lives in one place.
 */
import { createHash } from 'node:crypto';
import { pack } from 'msgpackr';
import type { PipelineModel } from '../pipeline.js';
import type { Definition, Entity, FeatureSpec, FeatureViewSource } from './definitions.js';
import { FeatureTypeChangedError, UnknownEntityError } from './errors.js';

/** An entity is stored as it is defined (it holds nothing in memory). */
export type EntitySpec = Entity;

/** A source as stored: datasets in memory are recorded by kind (and name) only. */
export type SourceSpec = Exclude<FeatureViewSource, { kind: 'dataset' }> | { readonly kind: 'dataset'; readonly name: string | null };

export interface FeatureViewSpec {
  readonly kind: 'featureView';
  readonly name: string;
  readonly entities: readonly string[];
  readonly joinKeys: readonly string[];
  readonly source: SourceSpec;
  readonly timestampField: string;
  /** Present only when set (specs of views without it stay as they were, so they keep their version). */
  readonly createdTimestampField?: string;
  readonly features: readonly FeatureSpec[];
  readonly ttlMs: number | null;
  readonly allowedLatenessMs: number;
  /** sha256 of the fitted pipeline's stages, and the directory it was loaded from when known. */
  readonly pipeline: { readonly sha256: string; readonly path: string | null } | null;
  readonly description: string;
}

export interface OnDemandFeatureViewSpec {
  readonly kind: 'onDemandFeatureView';
  readonly name: string;
  readonly sources: readonly string[];
  readonly request: readonly FeatureSpec[];
  readonly features: readonly FeatureSpec[];
  readonly pipeline: { readonly sha256: string; readonly path: string | null };
  readonly description: string;
}

export type DefinitionSpec = EntitySpec | FeatureViewSpec | OnDemandFeatureViewSpec;

export interface Versioned<S> {
  readonly version: number;
  readonly spec: S;
  readonly appliedAt: string;
  /** Earlier versions, oldest first. */
  readonly history: readonly { readonly version: number; readonly spec: S; readonly appliedAt: string }[];
}

export interface RegistrySnapshot {
  readonly entities: Readonly<Record<string, Versioned<EntitySpec>>>;
  readonly featureViews: Readonly<Record<string, Versioned<FeatureViewSpec>>>;
  readonly onDemandFeatureViews: Readonly<Record<string, Versioned<OnDemandFeatureViewSpec>>>;
}

export interface AppliedDefinition {
  readonly kind: DefinitionSpec['kind'];
  readonly name: string;
  readonly version: number;
  readonly changed: boolean;
}

export const emptySnapshot = (): RegistrySnapshot => ({ entities: {}, featureViews: {}, onDemandFeatureViews: {} });

export function pipelineSha256(p: PipelineModel): string {
  return createHash('sha256').update(pack(p.toJSON())).digest('hex');
}

export function specOf(d: Definition): DefinitionSpec {
  switch (d.kind) {
    case 'entity':
      return { kind: 'entity', name: d.name, joinKeys: d.joinKeys, keyType: d.keyType, description: d.description };
    case 'featureView': {
      const s = d.source;
      const source: SourceSpec = s.kind === 'onlineOnly' ? (s.registered as SourceSpec) : s.kind === 'dataset' ? { kind: 'dataset', name: s.name ?? null } : s;
      const pipeline = d.pipeline !== null ? { sha256: pipelineSha256(d.pipeline), path: d.pipelinePath } : d.pipelinePath !== null ? { sha256: '', path: d.pipelinePath } : null;
      return {
        kind: 'featureView', name: d.name, entities: d.entities.map((e) => e.name), joinKeys: d.joinKeys, source, timestampField: d.timestampField,
        ...(d.createdTimestampField !== null ? { createdTimestampField: d.createdTimestampField } : {}), features: d.features, ttlMs: d.ttlMs, allowedLatenessMs: d.allowedLatenessMs, pipeline, description: d.description,
      };
    }
    case 'onDemandFeatureView':
      return { kind: 'onDemandFeatureView', name: d.name, sources: d.sources, request: d.request, features: d.features, pipeline: { sha256: pipelineSha256(d.pipeline), path: null }, description: d.description };
  }
}

const slotOf = (kind: DefinitionSpec['kind']): keyof RegistrySnapshot => (kind === 'entity' ? 'entities' : kind === 'featureView' ? 'featureViews' : 'onDemandFeatureViews');

/** The snapshot after applying `specs` (throws FeatureTypeChangedError, or UnknownEntityError for a view over an entity neither held nor applied, before changing anything). */
export function planApply(snapshot: RegistrySnapshot, specs: readonly DefinitionSpec[], now = new Date()): { snapshot: RegistrySnapshot; applied: AppliedDefinition[] } {
  const next = { entities: { ...snapshot.entities }, featureViews: { ...snapshot.featureViews }, onDemandFeatureViews: { ...snapshot.onDemandFeatureViews } };
  const applied: AppliedDefinition[] = [];
  for (const spec of specs) {
    const slot = next[slotOf(spec.kind)] as Record<string, Versioned<DefinitionSpec>>;
    const prev = slot[spec.name];
    if (prev !== undefined && spec.kind !== 'entity') {
      // Every type the name ever had counts: a feature dropped and re-added with another type is refused too.
      for (const old of [...prev.history.map((h) => h.spec), prev.spec]) {
        for (const f of (old as FeatureViewSpec | OnDemandFeatureViewSpec).features) {
          const now = spec.features.find((g) => g.name === f.name);
          if (now !== undefined && now.type !== f.type) throw new FeatureTypeChangedError(spec.name, f.name, f.type, now.type, prev.version);
        }
      }
    }
    if (prev !== undefined && JSON.stringify(prev.spec) === JSON.stringify(spec)) {
      applied.push({ kind: spec.kind, name: spec.name, version: prev.version, changed: false });
      continue;
    }
    const version = (prev?.version ?? 0) + 1;
    const history = prev === undefined ? [] : [...prev.history, { version: prev.version, spec: prev.spec, appliedAt: prev.appliedAt }];
    slot[spec.name] = { version, spec, appliedAt: now.toISOString(), history };
    applied.push({ kind: spec.kind, name: spec.name, version, changed: true });
  }
  for (const spec of specs) {
    if (spec.kind !== 'featureView') continue;
    for (const e of spec.entities) if (next.entities[e] === undefined) throw new UnknownEntityError(e, Object.keys(next.entities).sort());
  }
  return { snapshot: next, applied };
}
