/**
 * The store's tables and their versioned migrations. `store_meta.schema_version` says which
 * migrations a database has had; opening applies the missing ones in order, each in its own
 * transaction, and refuses a database whose version is newer than this shoal knows — before reading
 * any of its tables, so a newer store is never half-read. On PostgreSQL an advisory lock keeps two
 * processes opening a fresh store at once from racing on the DDL.
 */
import { StoreSchemaError } from '../errors.js';
import type { SqlBackend, SqlExecutor } from './sql-backend.js';

/** One step of the schema: the statements that take a database from `version - 1` to `version`. */
interface Migration {
  version: number;
  statements: (dialect: SqlExecutor['dialect']) => string[];
}

const id = (dialect: SqlExecutor['dialect']): string => (dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY');

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: (d) => [
      `CREATE TABLE experiments (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT, created_at BIGINT NOT NULL)`,
      `CREATE TABLE runs (id TEXT PRIMARY KEY, experiment_id TEXT NOT NULL REFERENCES experiments(id), name TEXT NOT NULL,
        status TEXT NOT NULL, start_time BIGINT NOT NULL, end_time BIGINT, parent_run_id TEXT REFERENCES runs(id),
        code_hash TEXT, git_commit TEXT, owner_host TEXT, owner_pid BIGINT, heartbeat_at BIGINT, failure TEXT)`,
      `CREATE INDEX runs_experiment ON runs (experiment_id, start_time)`,
      `CREATE INDEX runs_parent ON runs (parent_run_id)`,
      `CREATE TABLE run_params (run_id TEXT NOT NULL REFERENCES runs(id), key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key))`,
      `CREATE TABLE run_tags (run_id TEXT NOT NULL REFERENCES runs(id), key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key))`,
      `CREATE TABLE metrics (seq ${id(d)}, run_id TEXT NOT NULL, key TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, step BIGINT NOT NULL, ts BIGINT NOT NULL)`,
      `CREATE INDEX metrics_run_key ON metrics (run_id, key, step)`,
      `CREATE TABLE latest_metrics (run_id TEXT NOT NULL REFERENCES runs(id), key TEXT NOT NULL, value DOUBLE PRECISION NOT NULL,
        step BIGINT NOT NULL, ts BIGINT NOT NULL, PRIMARY KEY (run_id, key))`,
      `CREATE TABLE run_artifacts (run_id TEXT NOT NULL REFERENCES runs(id), path TEXT NOT NULL, sha256 TEXT NOT NULL, bytes BIGINT NOT NULL,
        created_at BIGINT NOT NULL, PRIMARY KEY (run_id, path))`,
      `CREATE TABLE registered_models (name TEXT PRIMARY KEY, description TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
      `CREATE TABLE model_versions (name TEXT NOT NULL REFERENCES registered_models(name), version BIGINT NOT NULL, run_id TEXT REFERENCES runs(id),
        source TEXT NOT NULL, description TEXT, signature TEXT, created_at BIGINT NOT NULL, PRIMARY KEY (name, version))`,
      `CREATE TABLE model_tags (name TEXT NOT NULL REFERENCES registered_models(name), key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, key))`,
      `CREATE TABLE model_version_tags (name TEXT NOT NULL, version BIGINT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, version, key))`,
      `CREATE TABLE model_aliases (name TEXT NOT NULL REFERENCES registered_models(name), alias TEXT NOT NULL, version BIGINT NOT NULL,
        set_at BIGINT NOT NULL, set_by TEXT NOT NULL, reason TEXT, PRIMARY KEY (name, alias))`,
      `CREATE TABLE alias_history (seq ${id(d)}, name TEXT NOT NULL, alias TEXT NOT NULL, version BIGINT, previous_version BIGINT,
        set_at BIGINT NOT NULL, set_by TEXT NOT NULL, reason TEXT)`,
      `CREATE INDEX alias_history_model ON alias_history (name, alias, seq)`,
      `CREATE TABLE dataset_versions (id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, schema_json TEXT,
        row_count BIGINT, profile_json TEXT, created_at BIGINT NOT NULL)`,
      `CREATE TABLE dataset_files (version_id TEXT NOT NULL REFERENCES dataset_versions(id), path TEXT NOT NULL, sha256 TEXT NOT NULL,
        bytes BIGINT NOT NULL, PRIMARY KEY (version_id, path))`,
      `CREATE TABLE run_inputs (run_id TEXT NOT NULL REFERENCES runs(id), kind TEXT NOT NULL, ref TEXT NOT NULL, role TEXT NOT NULL,
        PRIMARY KEY (run_id, kind, ref, role))`,
      `CREATE INDEX run_inputs_ref ON run_inputs (kind, ref)`,
      `CREATE TABLE deployments (seq ${id(d)}, name TEXT NOT NULL, version BIGINT NOT NULL, target TEXT NOT NULL, deployed_at BIGINT NOT NULL, deployed_by TEXT NOT NULL)`,
    ],
  },
  {
    // Pipelines (src/platform/pipelines): a pipeline run is a run of `runs` (same id), each step a
    // child run; these tables add what a run has not — the DAG, step states, cache keys, outputs.
    // Additive only: no table of version 1 changes.
    version: 2,
    statements: () => [
      `CREATE TABLE IF NOT EXISTS pipeline_runs (id TEXT PRIMARY KEY REFERENCES runs(id), pipeline TEXT NOT NULL, module TEXT,
        status TEXT NOT NULL, params_json TEXT NOT NULL, options_json TEXT NOT NULL, dag_json TEXT NOT NULL, resumed_from TEXT,
        start_time BIGINT NOT NULL, end_time BIGINT, error TEXT)`,
      `CREATE INDEX IF NOT EXISTS pipeline_runs_pipeline ON pipeline_runs (pipeline, start_time)`,
      `CREATE TABLE IF NOT EXISTS pipeline_steps (pipeline_run_id TEXT NOT NULL REFERENCES pipeline_runs(id), step TEXT NOT NULL,
        node TEXT NOT NULL, state TEXT NOT NULL, run_id TEXT, code_hash TEXT, cache_key TEXT, cache_hit BIGINT NOT NULL, cached_from TEXT,
        attempts BIGINT NOT NULL, start_time BIGINT, end_time BIGINT, duration_ms BIGINT, error TEXT, outputs_json TEXT,
        PRIMARY KEY (pipeline_run_id, step))`,
      `CREATE INDEX IF NOT EXISTS pipeline_steps_cache ON pipeline_steps (cache_key, state)`,
    ],
  },
  {
    // Pipeline triggers (src/platform/triggers): schedules and data/event triggers the head fires,
    // kept here so they survive a head restart; events other parts of shoal post; each step's log
    // lines. Additive only: no table of versions 1–2 changes.
    version: 3,
    statements: (d) => [
      `CREATE TABLE IF NOT EXISTS pipeline_triggers (id TEXT PRIMARY KEY, kind TEXT NOT NULL, pipeline TEXT NOT NULL, module TEXT NOT NULL,
        spec_json TEXT NOT NULL, params_json TEXT NOT NULL, overlap TEXT NOT NULL, created_at BIGINT NOT NULL, state_json TEXT,
        last_fired_at BIGINT, last_reason TEXT, last_run_id TEXT, last_error TEXT, fires BIGINT NOT NULL, skipped BIGINT NOT NULL, queued BIGINT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS pipeline_events (seq ${id(d)}, name TEXT NOT NULL, payload_json TEXT NOT NULL, source TEXT, posted_at BIGINT NOT NULL)`,
      `CREATE INDEX IF NOT EXISTS pipeline_events_name ON pipeline_events (name, seq)`,
      `CREATE TABLE IF NOT EXISTS pipeline_step_logs (pipeline_run_id TEXT NOT NULL, step TEXT NOT NULL, seq BIGINT NOT NULL, stream TEXT NOT NULL,
        line TEXT NOT NULL, ts BIGINT NOT NULL, PRIMARY KEY (pipeline_run_id, step, seq))`,
    ],
  },
  {
    // Feature store definitions (src/features/feature-store/platform-registry.ts): every version of
    // every entity, feature view and on-demand view as its JSON spec. Additive only.
    version: 4,
    statements: () => [
      `CREATE TABLE IF NOT EXISTS feature_definitions (kind TEXT NOT NULL, name TEXT NOT NULL, version BIGINT NOT NULL, spec_json TEXT NOT NULL,
        applied_at BIGINT NOT NULL, PRIMARY KEY (kind, name, version))`,
    ],
  },
  {
    // Monitoring and the feedback loop (src/platform/monitoring, feedback, retraining, alerts): each
    // monitor's results over time, the alerts raised, and every retraining decision with its reason
    // and evidence. Additive only.
    version: 5,
    statements: (d) => [
      `CREATE TABLE IF NOT EXISTS monitor_results (seq ${id(d)}, monitor TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
        at BIGINT NOT NULL, summary TEXT NOT NULL, evidence_json TEXT NOT NULL)`,
      `CREATE INDEX IF NOT EXISTS monitor_results_monitor ON monitor_results (monitor, at)`,
      `CREATE TABLE IF NOT EXISTS monitor_alerts (seq ${id(d)}, source TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,
        message TEXT NOT NULL, at BIGINT NOT NULL, evidence_json TEXT NOT NULL, notified TEXT)`,
      `CREATE TABLE IF NOT EXISTS retraining_decisions (seq ${id(d)}, model TEXT NOT NULL, decision TEXT NOT NULL, reason TEXT NOT NULL,
        at BIGINT NOT NULL, policy TEXT, pipeline_run_id TEXT, candidate_version BIGINT, champion_version BIGINT, evidence_json TEXT NOT NULL)`,
      `CREATE INDEX IF NOT EXISTS retraining_decisions_model ON retraining_decisions (model, seq)`,
    ],
  },
];

/** The newest schema version this shoal writes (and the newest it reads). */
export const STORE_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Reads the stored version (0 for a fresh database); refuses anything but an integer ≤ {@link STORE_SCHEMA_VERSION}. */
async function storedVersion(db: SqlExecutor, description: string): Promise<number> {
  const row = await db.get<{ value: string }>(`SELECT value FROM store_meta WHERE name = 'schema_version'`);
  if (!row) return 0;
  const found = Number(row.value);
  if (!Number.isInteger(found) || found < 1) {
    throw new StoreSchemaError(description, `its schema version ${JSON.stringify(row.value)} is not one shoal writes; is it a shoal platform store?`);
  }
  if (found > STORE_SCHEMA_VERSION) {
    throw new StoreSchemaError(
      description,
      `it was written by a newer shoal (schema version ${found}); this shoal reads up to version ${STORE_SCHEMA_VERSION}. Upgrade shoal, or point SHOAL_METADATA_URL / SHOAL_HOME elsewhere`,
    );
  }
  return found;
}

/** Brings `db` to {@link STORE_SCHEMA_VERSION}, or throws {@link StoreSchemaError} without touching it. */
export async function migrate(db: SqlBackend): Promise<number> {
  await db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') await tx.run(`SELECT pg_advisory_xact_lock(hashtext(current_schema()))`);
    await tx.run(`CREATE TABLE IF NOT EXISTS store_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  });
  const before = await storedVersion(db, db.description);
  if (before === STORE_SCHEMA_VERSION) return before;
  for (const m of MIGRATIONS) {
    await db.transaction(async (tx) => {
      if (tx.dialect === 'postgres') await tx.run(`SELECT pg_advisory_xact_lock(hashtext(current_schema()))`);
      // Someone else may have migrated meanwhile: re-read under the lock.
      const now = await storedVersion(tx, db.description);
      if (now >= m.version) return;
      for (const sql of m.statements(tx.dialect)) await tx.run(sql);
      await tx.run(`INSERT INTO store_meta (name, value) VALUES ('schema_version', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, [String(m.version)]);
    });
  }
  return STORE_SCHEMA_VERSION;
}
