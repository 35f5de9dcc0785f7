/**
 * Dataset versions and lineage. A dataset version is identified by its content: for files, the
 * digest of the sorted (path, sha256) set (DVC-style: the same files give the same version); for a
 * PostgreSQL read, the digest of what was read and the snapshot it was read at (the exported
 * snapshot / txid of the partitioned read). Runs record versions as inputs; lineage walks from a
 * model version (or run) to its run, the run's ancestors, their inputs, code and params — and from
 * a dataset version to the runs and model versions that used it.
 */
import { createHash } from 'node:crypto';
import { StoreNotFoundError } from './errors.js';
import { checkName } from './names.js';
import { parseModelUri } from './model-uri.js';
import type { Registry } from './registry.js';
import type { Store } from './store.js';
import type { DatasetFile, DatasetVersion, ModelVersion, RunInfo } from './store-types.js';

/** What is known of a dataset version besides its content. */
export interface DatasetDetails {
  /** Column → type. */
  schema?: Readonly<Record<string, string>> | undefined;
  rowCount?: number | undefined;
  /** A statistics profile (per-column counts, means, ...). */
  profile?: Readonly<Record<string, unknown>> | undefined;
}

/** A PostgreSQL read, as recorded. */
export interface SnapshotSource {
  /** Database URL (its password is dropped before it is stored). */
  database: string;
  /** The table or query read. */
  relation: string;
  /** The snapshot read at: an exported snapshot id or a txid. */
  snapshot: string;
}

/** The chain behind a model version or run. */
export interface Lineage {
  uri: string;
  modelVersion: ModelVersion | null;
  run: RunInfo;
  /** The run's parent, its parent, ... (nearest first). */
  ancestors: RunInfo[];
  /** Dataset versions read by the run or its ancestors. */
  datasets: Array<DatasetVersion & { role: string; runId: string }>;
  /** Feature pipelines (by hash) the run or its ancestors used. */
  featurePipelines: string[];
  /** The same, with the run that used each and its role. */
  featureInputs: Array<{ ref: string; role: string; runId: string }>;
  deployments: Array<{ target: string; deployedAt: number; deployedBy: string }>;
}

const digest = (s: string): string => createHash('sha256').update(s).digest('hex');

export class LineageStore {
  constructor(private readonly store: Store, private readonly registry: Registry) {}

  private get db() {
    return this.store.db;
  }

  /** Records a file-set dataset version (the files' own paths are recorded, never opened by the store). */
  async logFiles(name: string, files: readonly DatasetFile[], details: DatasetDetails = {}): Promise<DatasetVersion> {
    checkName('dataset name', name);
    const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const d = digest(sorted.map((f) => `${f.path}\0${f.sha256}\0${f.bytes}`).join('\n'));
    return this.record(name, 'files', { digest: d, files: sorted.length }, d, details, sorted);
  }

  /** Records a PostgreSQL read at a snapshot as a dataset version. */
  async logSnapshot(name: string, source: SnapshotSource, details: DatasetDetails = {}): Promise<DatasetVersion> {
    checkName('dataset name', name);
    const url = new URL(source.database);
    url.password = '';
    const clean = { database: url.toString(), relation: source.relation, snapshot: source.snapshot };
    return this.record(name, 'postgres', clean, digest(JSON.stringify(clean)), details, []);
  }

  private async record(name: string, kind: DatasetVersion['kind'], source: Record<string, unknown>, d: string, details: DatasetDetails, files: readonly DatasetFile[]): Promise<DatasetVersion> {
    const id = `${name}@${d.slice(0, 16)}`;
    await this.db.transaction(async (tx) => {
      const inserted = await tx.run(
        `INSERT INTO dataset_versions (id, name, kind, source, schema_json, row_count, profile_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        [id, name, kind, JSON.stringify(source), details.schema ? JSON.stringify(details.schema) : null, details.rowCount ?? null, details.profile ? JSON.stringify(details.profile) : null, Date.now()],
      );
      if (inserted > 0) await tx.insertMany('dataset_files', ['version_id', 'path', 'sha256', 'bytes'], files.map((f) => [id, f.path, f.sha256, f.bytes]));
    });
    return this.getDataset(id);
  }

  async getDataset(id: string): Promise<DatasetVersion> {
    const row = await this.db.get<{ id: string; name: string; kind: DatasetVersion['kind']; source: string; schema_json: string | null; row_count: number | null; profile_json: string | null; created_at: number }>(
      `SELECT * FROM dataset_versions WHERE id = ?`, [id],
    );
    if (!row) throw new StoreNotFoundError('dataset version', id);
    const files = await this.db.all<DatasetFile>(`SELECT path, sha256, bytes FROM dataset_files WHERE version_id = ? ORDER BY path`, [id]);
    return {
      id: row.id, name: row.name, kind: row.kind, source: JSON.parse(row.source) as Record<string, unknown>,
      schema: row.schema_json ? (JSON.parse(row.schema_json) as Record<string, string>) : null, rowCount: row.row_count,
      profile: row.profile_json ? (JSON.parse(row.profile_json) as Record<string, unknown>) : null, createdAt: row.created_at, files,
    };
  }

  /** The chain behind `uri` (`models:/name@alias`, `models:/name/7`, `runs:/<id>/...` or a bare run id). */
  async lineage(uri: string): Promise<Lineage> {
    let modelVersion: ModelVersion | null = null;
    let runId: string;
    if (/^[0-9a-f]{32}$/.test(uri)) runId = uri;
    else {
      const u = parseModelUri(uri);
      if (u.kind === 'run') runId = u.runId;
      else {
        modelVersion = await this.registry.getVersion(u.name, u.kind === 'version' ? u.version : await this.registry.resolveAlias(u.name, u.alias));
        if (modelVersion.runId === null) throw new StoreNotFoundError('run', `of ${uri}`);
        runId = modelVersion.runId;
      }
    }
    const run = await this.store.getRunInfo(runId);
    const ancestors: RunInfo[] = [];
    for (let p = run.parentRunId; p !== null && ancestors.length < 100; ) {
      const r = await this.store.getRunInfo(p);
      ancestors.push(r);
      p = r.parentRunId;
    }
    const datasets: Lineage['datasets'] = [];
    const featurePipelines: string[] = [];
    const featureInputs: Lineage['featureInputs'] = [];
    for (const r of [run, ...ancestors]) {
      for (const i of await this.db.all<{ kind: string; ref: string; role: string }>(`SELECT kind, ref, role FROM run_inputs WHERE run_id = ? ORDER BY ref`, [r.id])) {
        if (i.kind === 'dataset') datasets.push({ ...(await this.getDataset(i.ref)), role: i.role, runId: r.id });
        else if (i.kind === 'feature-pipeline') {
          featurePipelines.push(i.ref);
          featureInputs.push({ ref: i.ref, role: i.role, runId: r.id });
        }
      }
    }
    const deployments = modelVersion
      ? (await this.db.all<{ target: string; deployed_at: number; deployed_by: string }>(`SELECT target, deployed_at, deployed_by FROM deployments WHERE name = ? AND version = ? ORDER BY seq`, [modelVersion.name, modelVersion.version]))
        .map((d) => ({ target: d.target, deployedAt: d.deployed_at, deployedBy: d.deployed_by }))
      : [];
    return { uri, modelVersion, run, ancestors, datasets, featurePipelines, featureInputs, deployments };
  }

  /** The runs that read dataset version `id` (and their descendants), and the model versions made from them. */
  async usage(id: string): Promise<{ dataset: DatasetVersion; runs: RunInfo[]; modelVersions: ModelVersion[] }> {
    const dataset = await this.getDataset(id);
    const seen = new Set<string>();
    let frontier = (await this.db.all<{ run_id: string }>(`SELECT run_id FROM run_inputs WHERE kind = 'dataset' AND ref = ?`, [id])).map((r) => r.run_id);
    while (frontier.length > 0) {
      const next: string[] = [];
      for (const r of frontier) {
        if (seen.has(r)) continue;
        seen.add(r);
        next.push(...(await this.db.all<{ id: string }>(`SELECT id FROM runs WHERE parent_run_id = ?`, [r])).map((c) => c.id));
      }
      frontier = next;
    }
    const runs = await Promise.all([...seen].map((r) => this.store.getRunInfo(r)));
    const modelVersions: ModelVersion[] = [];
    for (const r of seen) {
      for (const v of await this.db.all<{ name: string; version: number }>(`SELECT name, version FROM model_versions WHERE run_id = ? ORDER BY name, version`, [r])) {
        modelVersions.push(await this.registry.getVersion(v.name, v.version));
      }
    }
    return { dataset, runs: runs.sort((a, b) => a.startTime - b.startTime), modelVersions };
  }
}
