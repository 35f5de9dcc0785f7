/**
 * The model registry: registered models, their versions (each made from a model a run logged),
 * aliases, tags and descriptions. Moving an alias is one transaction that locks the model's row
 * (PostgreSQL `FOR UPDATE`, SQLite's write lock), updates the alias and appends to its history
 * (who, when, why, from which version): two clients moving one alias at once are serialized — the
 * later wins, both are in the history. `ifCurrent` makes the move conditional (compare-and-set).
 */
import { userInfo } from 'node:os';
import { AliasConflictError, AliasNotFoundError, InvalidModelUriError, ModelNotFoundError, ModelVersionNotFoundError } from './errors.js';
import { checkKey, checkName } from './names.js';
import { parseModelUri } from './model-uri.js';
import { forUpdate, type SqlExecutor } from './sql/sql-backend.js';
import type { Store } from './store.js';
import type { AliasChange, ModelSignature, ModelVersion, RegisteredModel } from './store-types.js';
import { MODEL_FILE } from './stored-model.js';

/** Options of {@link Registry.setAlias}. */
export interface SetAliasOptions {
  /** Who moved it. @default the OS user name */
  by?: string | undefined;
  /** Why (kept in the history). */
  reason?: string | undefined;
  /** Move only if the alias points at this version now (`null`: only if it is unset); else AliasConflictError. */
  ifCurrent?: number | null | undefined;
}

interface VersionRow { name: string; version: number; run_id: string | null; source: string; description: string | null; signature: string | null; created_at: number }

const who = (): string => {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
};

export class Registry {
  constructor(private readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  /** Makes the registered model `name` (a no-op when it exists; a given description replaces the old). */
  async createModel(name: string, options: { description?: string | undefined } = {}): Promise<RegisteredModel> {
    checkName('model name', name);
    const now = Date.now();
    await this.db.run(`INSERT INTO registered_models (name, description, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`, [name, options.description ?? null, now, now]);
    if (options.description !== undefined) await this.db.run(`UPDATE registered_models SET description = ?, updated_at = ? WHERE name = ?`, [options.description, now, name]);
    return this.getModel(name);
  }

  async getModel(name: string): Promise<RegisteredModel> {
    const row = await this.db.get<{ name: string; description: string | null; created_at: number; updated_at: number }>(`SELECT * FROM registered_models WHERE name = ?`, [name]);
    if (!row) throw new ModelNotFoundError(name);
    const [latest, aliases, tags] = await Promise.all([
      this.db.get<{ v: number | null }>(`SELECT MAX(version) AS v FROM model_versions WHERE name = ?`, [name]),
      this.db.all<{ alias: string; version: number }>(`SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias`, [name]),
      this.db.all<{ key: string; value: string }>(`SELECT key, value FROM model_tags WHERE name = ? ORDER BY key`, [name]),
    ]);
    return {
      name, description: row.description, createdAt: row.created_at, updatedAt: row.updated_at, latestVersion: latest?.v ?? null,
      aliases: Object.fromEntries(aliases.map((a) => [a.alias, a.version])), tags: Object.fromEntries(tags.map((t) => [t.key, t.value])),
    };
  }

  async listModels(): Promise<RegisteredModel[]> {
    const names = await this.db.all<{ name: string }>(`SELECT name FROM registered_models ORDER BY name`);
    return Promise.all(names.map((n) => this.getModel(n.name)));
  }

  /**
   * A new version of model `name` from the model a run logged (`runs:/<id>/<path>`); the model is
   * made when missing. Throws RunNotFoundError / ArtifactNotFoundError when the source is not there.
   */
  async createVersion(name: string, source: string, options: { description?: string | undefined; tags?: Readonly<Record<string, string>> | undefined } = {}): Promise<ModelVersion> {
    const uri = parseModelUri(source);
    if (uri.kind !== 'run') throw new InvalidModelUriError(source, 'a version is made from a model a run logged: runs:/<run id>/<path>');
    await this.createModel(name);
    const signatureBytes = await this.store.readArtifact(uri.runId, `${uri.path}/${MODEL_FILE}`);
    const signature = (JSON.parse(new TextDecoder().decode(signatureBytes)) as { signature?: ModelSignature | null }).signature ?? null;
    const version = await this.db.transaction(async (tx) => {
      await tx.get(`SELECT name FROM registered_models WHERE name = ?${forUpdate(tx)}`, [name]);
      const row = await tx.get<{ v: number | null }>(`SELECT MAX(version) AS v FROM model_versions WHERE name = ?`, [name]);
      const v = (row?.v ?? 0) + 1;
      const now = Date.now();
      await tx.run(`INSERT INTO model_versions (name, version, run_id, source, description, signature, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
        name, v, uri.runId, source, options.description ?? null, signature ? JSON.stringify(signature) : null, now,
      ]);
      await tx.insertMany('model_version_tags', ['name', 'version', 'key', 'value'], Object.entries(options.tags ?? {}).map(([k, val]) => [name, v, checkKey('tag', k), val]));
      await tx.run(`UPDATE registered_models SET updated_at = ? WHERE name = ?`, [now, name]);
      return v;
    });
    return this.getVersion(name, version);
  }

  async getVersion(name: string, version: number): Promise<ModelVersion> {
    const row = await this.db.get<VersionRow>(`SELECT * FROM model_versions WHERE name = ? AND version = ?`, [name, version]);
    if (!row) {
      await this.getModel(name);
      throw new ModelVersionNotFoundError(name, version);
    }
    return this.versionOf(row);
  }

  async listVersions(name: string): Promise<ModelVersion[]> {
    await this.getModel(name);
    const rows = await this.db.all<VersionRow>(`SELECT * FROM model_versions WHERE name = ? ORDER BY version`, [name]);
    return Promise.all(rows.map((r) => this.versionOf(r)));
  }

  private async versionOf(r: VersionRow): Promise<ModelVersion> {
    const [aliases, tags] = await Promise.all([
      this.db.all<{ alias: string }>(`SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias`, [r.name, r.version]),
      this.db.all<{ key: string; value: string }>(`SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key`, [r.name, r.version]),
    ]);
    return {
      name: r.name, version: r.version, runId: r.run_id, source: r.source, description: r.description,
      signature: r.signature ? (JSON.parse(r.signature) as ModelSignature) : null, createdAt: r.created_at,
      aliases: aliases.map((a) => a.alias), tags: Object.fromEntries(tags.map((t) => [t.key, t.value])),
    };
  }

  /** The version `alias` points at. Throws ModelNotFoundError / AliasNotFoundError. */
  async resolveAlias(name: string, alias: string): Promise<number> {
    const row = await this.db.get<{ version: number }>(`SELECT version FROM model_aliases WHERE name = ? AND alias = ?`, [name, alias]);
    if (row) return row.version;
    await this.getModel(name);
    throw new AliasNotFoundError(name, alias);
  }

  /** Points `alias` of model `name` at `version` (see the file header). Resolves with the version it pointed at before (null: none). */
  async setAlias(name: string, alias: string, version: number, options: SetAliasOptions = {}): Promise<number | null> {
    checkName('alias', alias);
    await this.getVersion(name, version);
    return this.moveAlias(name, alias, version, options);
  }

  /** Removes `alias` (recorded in the history with version null). */
  async deleteAlias(name: string, alias: string, options: SetAliasOptions = {}): Promise<number | null> {
    await this.resolveAlias(name, alias);
    return this.moveAlias(name, alias, null, options);
  }

  private moveAlias(name: string, alias: string, version: number | null, options: SetAliasOptions): Promise<number | null> {
    const by = options.by ?? who();
    return this.db.transaction(async (tx: SqlExecutor) => {
      await tx.get(`SELECT name FROM registered_models WHERE name = ?${forUpdate(tx)}`, [name]);
      const current = (await tx.get<{ version: number }>(`SELECT version FROM model_aliases WHERE name = ? AND alias = ?`, [name, alias]))?.version ?? null;
      if (options.ifCurrent !== undefined && options.ifCurrent !== current) throw new AliasConflictError(name, alias, options.ifCurrent, current);
      const now = Date.now();
      if (version === null) await tx.run(`DELETE FROM model_aliases WHERE name = ? AND alias = ?`, [name, alias]);
      else {
        await tx.run(
          `INSERT INTO model_aliases (name, alias, version, set_at, set_by, reason) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, set_at = excluded.set_at, set_by = excluded.set_by, reason = excluded.reason`,
          [name, alias, version, now, by, options.reason ?? null],
        );
      }
      await tx.run(`INSERT INTO alias_history (name, alias, version, previous_version, set_at, set_by, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
        name, alias, version, current, now, by, options.reason ?? null,
      ]);
      return current;
    });
  }

  /** Every move of the aliases of `name` (of one alias when given), oldest first. */
  async aliasHistory(name: string, alias?: string): Promise<AliasChange[]> {
    await this.getModel(name);
    const rows = await this.db.all<{ name: string; alias: string; version: number | null; previous_version: number | null; set_at: number; set_by: string; reason: string | null }>(
      `SELECT * FROM alias_history WHERE name = ?${alias === undefined ? '' : ' AND alias = ?'} ORDER BY seq`,
      alias === undefined ? [name] : [name, alias],
    );
    return rows.map((r) => ({ name: r.name, alias: r.alias, version: r.version, previousVersion: r.previous_version, setAt: r.set_at, setBy: r.set_by, reason: r.reason }));
  }

  async setModelTag(name: string, key: string, value: string): Promise<void> {
    await this.getModel(name);
    await this.db.run(`INSERT INTO model_tags (name, key, value) VALUES (?, ?, ?) ON CONFLICT (name, key) DO UPDATE SET value = excluded.value`, [name, checkKey('tag', key), value]);
  }

  async setVersionTag(name: string, version: number, key: string, value: string): Promise<void> {
    await this.getVersion(name, version);
    await this.db.run(`INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value`, [
      name, version, checkKey('tag', key), value,
    ]);
  }

  async setVersionDescription(name: string, version: number, description: string): Promise<void> {
    await this.getVersion(name, version);
    await this.db.run(`UPDATE model_versions SET description = ? WHERE name = ? AND version = ?`, [description, name, version]);
  }

  /** Records that `name`/`version` was deployed to `target` (a serving deployment name): part of its lineage. */
  async recordDeployment(name: string, version: number, target: string, by = who()): Promise<void> {
    await this.getVersion(name, version);
    await this.db.run(`INSERT INTO deployments (name, version, target, deployed_at, deployed_by) VALUES (?, ?, ?, ?, ?)`, [name, version, target, Date.now(), by]);
  }
}
