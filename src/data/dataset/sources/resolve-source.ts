/** Plans a source on the driver (once per source; cached). */
import { resolveArrow, resolveRange } from './memory-source.js';
import { resolveParquet } from './parquet-source.js';
import { resolvePostgres } from './postgres-source.js';
import type { ResolvedSource } from './resolved-source.js';
import type { SourceSpec } from './source-options.js';
import { resolveText } from './text-source.js';

const cache = new WeakMap<SourceSpec, Promise<ResolvedSource>>();

function resolveUncached(spec: SourceSpec): Promise<ResolvedSource> {
  switch (spec.type) {
    case 'arrow':
      return Promise.resolve(resolveArrow(spec.partitions));
    case 'range':
      return Promise.resolve(resolveRange(spec.n, spec.numPartitions));
    case 'csv':
      return resolveText('csv', spec.paths, spec.options);
    case 'json':
      return resolveText('json', spec.paths, spec.options);
    case 'parquet':
      return resolveParquet(spec.paths, spec.mergeSchema);
    case 'postgres':
      return resolvePostgres(spec.options);
  }
}

export function resolveSource(spec: SourceSpec): Promise<ResolvedSource> {
  let p = cache.get(spec);
  if (p === undefined) {
    p = resolveUncached(spec);
    cache.set(spec, p);
    // A failed resolution (file missing, server down) is retried by the next action.
    p.catch(() => cache.delete(spec));
  }
  return p;
}
