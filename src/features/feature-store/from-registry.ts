/**
 * Definitions rebuilt from a registry snapshot, for a process that did not define them (the CLI).
 * Views over PostgreSQL or Parquet (with no pipeline, or one saved to a directory) come back whole;
 * a view over an in-memory Dataset, or with a pipeline held only in memory, and on-demand views
 * (their pipelines are not in the registry) are listed as unavailable with the reason.
 */
import type { Entity, FeatureView } from './definitions.js';
import type { RegistrySnapshot } from './specs.js';

export function definitionsFromSnapshot(snapshot: RegistrySnapshot): { definitions: (Entity | FeatureView)[]; unavailable: Map<string, string> } {
  const entities = new Map<string, Entity>(Object.values(snapshot.entities).map(({ spec }) => [spec.name, { ...spec }]));
  const definitions: (Entity | FeatureView)[] = [...entities.values()];
  const unavailable = new Map<string, string>();
  for (const { spec } of Object.values(snapshot.featureViews)) {
    if (spec.source.kind === 'dataset') {
      unavailable.set(spec.name, 'its source is an in-memory Dataset, held only by the process that defined it (a PostgreSQL or Parquet source can be used from anywhere)');
      continue;
    }
    if (spec.pipeline !== null && spec.pipeline.path === null) {
      unavailable.set(spec.name, 'its fitted pipeline was given in memory; save it and define the view with its directory to use it from anywhere');
      continue;
    }
    const ents = spec.entities.map((n) => entities.get(n));
    if (ents.some((e) => e === undefined)) {
      unavailable.set(spec.name, `the registry lacks one of its entities (${spec.entities.join(', ')})`);
      continue;
    }
    definitions.push({
      kind: 'featureView', name: spec.name, entities: ents as Entity[], joinKeys: spec.joinKeys, source: spec.source, timestampField: spec.timestampField, createdTimestampField: spec.createdTimestampField ?? null,
      features: spec.features, ttlMs: spec.ttlMs, allowedLatenessMs: spec.allowedLatenessMs, pipeline: null, pipelinePath: spec.pipeline?.path ?? null, description: spec.description,
    });
  }
  for (const { spec } of Object.values(snapshot.onDemandFeatureViews)) unavailable.set(spec.name, 'on-demand views compute with pipelines held by the process that defined them');
  return { definitions, unavailable };
}
