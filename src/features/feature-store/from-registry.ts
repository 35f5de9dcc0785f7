/**
 * Definitions rebuilt from a registry snapshot, for a process that did not define them (the CLI).
 * Views over PostgreSQL or Parquet (with no pipeline, or one saved to a directory) come back whole;
 * a view over an in-memory Dataset, or with a pipeline held only in memory, and on-demand views
 * (their pipelines are not in the registry) are listed as unavailable with the reason. With
 * `onlineOnly` (serving processes) the views of the first two kinds come back too, for online reads
 * only (an OnlineOnlySource: training sets and materialization of them fail saying why).
 */
import type { Entity, FeatureView } from './definitions.js';
import type { RegistrySnapshot } from './specs.js';

export function definitionsFromSnapshot(snapshot: RegistrySnapshot, options: { readonly onlineOnly?: boolean } = {}): { definitions: (Entity | FeatureView)[]; unavailable: Map<string, string> } {
  const entities = new Map<string, Entity>(Object.values(snapshot.entities).map(({ spec }) => [spec.name, { ...spec }]));
  const definitions: (Entity | FeatureView)[] = [...entities.values()];
  const unavailable = new Map<string, string>();
  for (const { spec } of Object.values(snapshot.featureViews)) {
    const why = spec.source.kind === 'dataset'
      ? 'its source is an in-memory Dataset, held only by the process that defined it (a PostgreSQL or Parquet source can be used from anywhere)'
      : spec.pipeline !== null && spec.pipeline.path === null
        ? 'its fitted pipeline was given in memory; save it and define the view with its directory to use it from anywhere'
        : null;
    if (why !== null && options.onlineOnly !== true) {
      unavailable.set(spec.name, why);
      continue;
    }
    const ents = spec.entities.map((n) => entities.get(n));
    if (ents.some((e) => e === undefined)) {
      unavailable.set(spec.name, `the registry lacks one of its entities (${spec.entities.join(', ')})`);
      continue;
    }
    // Serving only reads stored values: a view whose source is elsewhere is served, and fails offline with `why`.
    const source = why === null ? (spec.source as Exclude<typeof spec.source, { kind: 'dataset' }>) : { kind: 'onlineOnly' as const, why, registered: spec.source };
    definitions.push({
      kind: 'featureView', name: spec.name, entities: ents as Entity[], joinKeys: spec.joinKeys, source, timestampField: spec.timestampField, createdTimestampField: spec.createdTimestampField ?? null,
      features: spec.features, ttlMs: spec.ttlMs, allowedLatenessMs: spec.allowedLatenessMs, pipeline: null, pipelinePath: spec.pipeline?.path ?? null, description: spec.description,
    });
  }
  for (const { spec } of Object.values(snapshot.onDemandFeatureViews)) unavailable.set(spec.name, 'on-demand views compute with pipelines held by the process that defined them');
  return { definitions, unavailable };
}
