/**
 * Freshness per feature view as a Prometheus gauge: seconds since the view's high-water mark (how far
 * behind the source the online store may be). Read from the online store at scrape time; a view not
 * yet materialized, or an online store that does not answer, has no sample in that scrape.
 */
import { Gauge, register as defaultRegister, type Registry } from 'prom-client';
import type { FeatureStore } from './feature-store.js';

export const FRESHNESS_METRIC = 'shoal_feature_view_freshness_seconds';

/** Registers the gauge for `store`'s views in `registry` (prom-client's default registry by default). */
export function registerFreshnessGauge(store: FeatureStore, registry: Registry = defaultRegister): Gauge<'view'> {
  const existing = registry.getSingleMetric(FRESHNESS_METRIC);
  if (existing !== undefined) registry.removeSingleMetric(FRESHNESS_METRIC);
  return new Gauge({
    name: FRESHNESS_METRIC,
    help: 'Seconds since the feature view was last materialized up to (now − high-water mark)',
    labelNames: ['view'],
    registers: [registry],
    async collect() {
      this.reset();
      const marks = await store.highWaterMarks().catch(() => ({}) as Record<string, number | null>);
      const now = Date.now();
      for (const [view, hwm] of Object.entries(marks)) if (hwm !== null) this.set({ view }, (now - hwm) / 1000);
    },
  });
}
