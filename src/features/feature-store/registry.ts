/**
 * Where definitions are versioned. `FeatureRegistry` is the small interface the feature store needs
 * (apply specs, read a snapshot); `FileFeatureRegistry` keeps them in one JSON file under a folder
 * (folder 0700, file 0600, written to a temporary file and renamed so a reader never sees half a
 * file). A registry backed by the platform store (src/store) can implement the same interface.
 */
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { shoalHome } from '../../core/index.js';
import { invalidOption } from '../errors.js';
import { CorruptedRegistryError } from './errors.js';
import { emptySnapshot, planApply, type AppliedDefinition, type DefinitionSpec, type RegistrySnapshot } from './specs.js';

/** A versioned store of feature definitions. */
export interface FeatureRegistry {
  /** Where it lives (for messages). */
  readonly location: string;
  /** Records `specs` (unchanged ones keep their version); refuses a feature type change with FeatureTypeChangedError. */
  apply(specs: readonly DefinitionSpec[]): Promise<AppliedDefinition[]>;
  /** The current definitions with their versions and history. */
  snapshot(): Promise<RegistrySnapshot>;
}

export const REGISTRY_FORMAT = 'shoal-feature-registry';
export const REGISTRY_FORMAT_VERSION = 1;
const FILE = 'registry.json';

/** The default registry folder: `$SHOAL_HOME/features`. */
export const defaultRegistryDir = (): string => join(shoalHome(), 'features');

/** Definitions in `dir/registry.json`. */
export class FileFeatureRegistry implements FeatureRegistry {
  readonly location: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string = defaultRegistryDir()) {
    this.location = join(dir, FILE);
  }

  async snapshot(): Promise<RegistrySnapshot> {
    let text: string;
    try {
      text = await readFile(this.location, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptySnapshot();
      throw err;
    }
    let doc: { format?: unknown; version?: unknown } & Partial<RegistrySnapshot>;
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch (err) {
      throw new CorruptedRegistryError(this.location, `not JSON (${(err as Error).message})`);
    }
    if (doc.format !== REGISTRY_FORMAT) throw new CorruptedRegistryError(this.location, `format is ${JSON.stringify(doc.format)}, expected "${REGISTRY_FORMAT}"`);
    if (typeof doc.version !== 'number' || doc.version > REGISTRY_FORMAT_VERSION) throw new CorruptedRegistryError(this.location, `format version ${String(doc.version)} is newer than this shoal reads (${REGISTRY_FORMAT_VERSION})`);
    for (const k of ['entities', 'featureViews', 'onDemandFeatureViews'] as const) {
      if (typeof doc[k] !== 'object' || doc[k] === null) throw new CorruptedRegistryError(this.location, `missing "${k}"`);
    }
    return { entities: doc.entities!, featureViews: doc.featureViews!, onDemandFeatureViews: doc.onDemandFeatureViews! };
  }

  apply(specs: readonly DefinitionSpec[]): Promise<AppliedDefinition[]> {
    // Applies in one process run one after another; across processes the rename keeps the file whole.
    const run = this.queue.then(async () => {
      const { snapshot, applied } = planApply(await this.snapshot(), specs);
      if (applied.some((a) => a.changed)) await this.write(snapshot);
      return applied;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(snapshot: RegistrySnapshot): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.location}.${process.pid}.${Date.now().toString(36)}.tmp`;
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(JSON.stringify({ format: REGISTRY_FORMAT, version: REGISTRY_FORMAT_VERSION, ...snapshot }, null, 2));
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await chmod(tmp, 0o600);
      await rename(tmp, this.location);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}

/** A fixed snapshot (a serving process's definitions): read-only, `apply` is refused. */
export class SnapshotRegistry implements FeatureRegistry {
  readonly location = 'a registry snapshot (read-only)';
  constructor(private readonly held: RegistrySnapshot) {}

  snapshot(): Promise<RegistrySnapshot> {
    return Promise.resolve(this.held);
  }

  apply(): Promise<AppliedDefinition[]> {
    return Promise.reject(invalidOption('definitions', 'cannot be applied to a serving store (a read-only registry snapshot); apply them where the views are defined', { stage: 'FeatureStore.apply' }));
  }
}
