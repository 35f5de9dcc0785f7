/**
 * Feature definitions versioned in the platform's metadata store (src/store: SQLite under
 * $SHOAL_HOME or PostgreSQL at SHOAL_METADATA_URL), table `feature_definitions` (store migration 4):
 * one row per version of each entity, feature view and on-demand view, its JSON spec and when it was
 * applied. An apply reads every row and inserts the new versions in one transaction (SQLite holds the
 * write lock; PostgreSQL takes an advisory lock first), so two processes applying at once are
 * serialized and never give two specs one version. The rule of what changes a version and what is
 * refused (a feature's type changed under its name: FeatureTypeChangedError) is `planApply`'s, the
 * same as the file registry's.
 */
import type { Store } from '../../store/index.js';
import type { FeatureRegistry } from './registry.js';
import { CorruptedRegistryError } from './errors.js';
import { emptySnapshot, planApply, type AppliedDefinition, type DefinitionSpec, type RegistrySnapshot, type Versioned } from './specs.js';

interface Row {
  kind: string;
  name: string;
  version: number;
  spec_json: string;
  applied_at: number;
}

const SLOTS = { entity: 'entities', featureView: 'featureViews', onDemandFeatureView: 'onDemandFeatureViews' } as const;

/** A registry in the platform store (`new PlatformFeatureRegistry(await openStore())`). */
export class PlatformFeatureRegistry implements FeatureRegistry {
  readonly location: string;

  constructor(readonly store: Store) {
    this.location = `feature_definitions in the platform store ${store.description}`;
  }

  private toSnapshot(rows: readonly Row[]): RegistrySnapshot {
    const out = emptySnapshot() as { -readonly [K in keyof RegistrySnapshot]: Record<string, Versioned<DefinitionSpec>> };
    const sorted = [...rows].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name) || Number(a.version) - Number(b.version));
    for (const r of sorted) {
      const slot = SLOTS[r.kind as keyof typeof SLOTS];
      if (slot === undefined) throw new CorruptedRegistryError(this.location, `a row of unknown kind ${JSON.stringify(r.kind)} (${r.name})`);
      let spec: DefinitionSpec;
      try {
        spec = JSON.parse(r.spec_json) as DefinitionSpec;
      } catch (err) {
        throw new CorruptedRegistryError(this.location, `${r.kind} "${r.name}" version ${r.version} is not JSON (${(err as Error).message})`);
      }
      const appliedAt = new Date(Number(r.applied_at)).toISOString();
      const prev = out[slot][r.name];
      out[slot][r.name] = {
        version: Number(r.version), spec, appliedAt,
        history: prev === undefined ? [] : [...prev.history, { version: prev.version, spec: prev.spec, appliedAt: prev.appliedAt }],
      };
    }
    return out as RegistrySnapshot;
  }

  async snapshot(): Promise<RegistrySnapshot> {
    return this.toSnapshot(await this.store.db.all<Row>('SELECT kind, name, version, spec_json, applied_at FROM feature_definitions'));
  }

  apply(specs: readonly DefinitionSpec[]): Promise<AppliedDefinition[]> {
    return this.store.db.transaction(async (tx) => {
      if (tx.dialect === 'postgres') await tx.run(`SELECT pg_advisory_xact_lock(hashtext('shoal.feature_definitions'))`);
      const current = this.toSnapshot(await tx.all<Row>('SELECT kind, name, version, spec_json, applied_at FROM feature_definitions'));
      const now = new Date();
      const { snapshot, applied } = planApply(current, specs, now);
      const rows = applied.filter((a) => a.changed).map((a) => {
        const v = snapshot[SLOTS[a.kind]][a.name]!;
        return [a.kind, a.name, a.version, JSON.stringify(v.spec), now.getTime()];
      });
      if (rows.length > 0) await tx.insertMany('feature_definitions', ['kind', 'name', 'version', 'spec_json', 'applied_at'], rows);
      return applied;
    });
  }
}
