/**
 * Serving a model from the platform store's registry (src/store). At deploy time, in the process
 * that deploys, a model URI (`models:/rental-recs@champion`, `models:/rental-recs/7`) is resolved
 * once to a version — the replicas then load that pinned version, so an alias moved while they
 * start changes nothing — and the version's stored input/output signature is compared with the one
 * the deployment declares: a mismatch is a ModelSignatureMismatchError before any replica starts.
 * The deployment's version label (the `x-shoal-version` header) is the registry version
 * (`rental-recs/7`), and the deployment is recorded in the version's lineage. Each replica loads
 * the model's JSON and tensors itself (`loadRegistryModel`: verified, no code of the model runs);
 * a load that fails fails the replica's health check, so traffic never reaches it.
 */
import { openStore, type ModelSignature, type StoredModel, type StoreLocation, type StoreOptions } from '../store/index.js';
import { resolveStoreLocation } from '../store/index.js';
import type { BoundDeployment, Deployment } from './deployment.js';
import type { DeployOptions } from './controller.js';
import { InvalidOptionError, ModelSignatureMismatchError } from './errors.js';

/** A registry model pinned for a deployment: plain data, passed to the replicas' constructor. */
export interface RegistryModel {
  /** The URI asked for (`models:/rental-recs@champion`). */
  requested: string;
  /** The pinned version's URI (`models:/rental-recs/7`): what replicas load. */
  uri: string;
  name: string;
  version: number;
  /** `name/version`: the deployment's version label, sent in `x-shoal-version`. */
  label: string;
  /** The declared (and stored) signature. */
  signature: ModelSignature;
  /** Where the store is, so replicas on any worker open the same one. */
  store: StoreLocation;
}

export interface RegistryModelOptions {
  /** What the deployment takes and answers; the stored version's signature must equal it. */
  signature: ModelSignature;
  /** The store (default: as `openStore()` finds it — SHOAL_METADATA_URL, else $SHOAL_HOME/store). */
  store?: StoreOptions | undefined;
}

/** Why `stored` differs from `declared`, one line per difference (none: they match). */
export function signatureDifferences(declared: ModelSignature, stored: ModelSignature | null): string[] {
  if (stored === null) return ['the stored version has no signature (log the model with one)'];
  const out: string[] = [];
  for (const side of ['inputs', 'outputs'] as const) {
    const what = side === 'inputs' ? 'input' : 'output';
    const want = new Map(declared[side].map((f) => [f.name, f]));
    const have = new Map(stored[side].map((f) => [f.name, f]));
    for (const [name, f] of want) {
      const g = have.get(name);
      if (!g) {
        out.push(`${what} '${name}' is declared but not stored`);
        continue;
      }
      if (f.type !== g.type) out.push(`${what} '${name}': type ${f.type} declared, ${g.type} stored`);
      const fs = JSON.stringify(f.shape ?? null);
      const gs = JSON.stringify(g.shape ?? null);
      if (fs !== gs) out.push(`${what} '${name}': shape ${fs} declared, ${gs} stored`);
    }
    for (const name of have.keys()) if (!want.has(name)) out.push(`${what} '${name}' is stored but not declared`);
  }
  return out;
}

function checkSignatureOption(signature: unknown): ModelSignature {
  const ok = (fields: unknown): boolean => Array.isArray(fields) && fields.every((f) => typeof f === 'object' && f !== null && typeof (f as { name?: unknown }).name === 'string' && typeof (f as { type?: unknown }).type === 'string');
  const s = signature as ModelSignature | undefined;
  if (typeof s !== 'object' || s === null || !ok(s.inputs) || !ok(s.outputs)) {
    throw new InvalidOptionError('options.signature must be { inputs: [{ name, type, shape? }], outputs: [...] }', { option: 'signature' });
  }
  return s;
}

/**
 * Resolves `uri` to a version and checks its stored signature against `options.signature`.
 * Throws the store's typed not-found errors (ModelNotFoundError, AliasNotFoundError, ...),
 * InvalidModelUriError, or {@link ModelSignatureMismatchError}.
 */
export async function resolveRegistryModel(uri: string, options: RegistryModelOptions): Promise<RegistryModel> {
  const signature = checkSignatureOption(options?.signature);
  const location = resolveStoreLocation(options.store);
  const store = await openStore(location);
  try {
    const { version } = await store.resolveModelUri(uri);
    if (!version) throw new InvalidOptionError(`serving takes a registry model URI (models:/<name>@<alias> or models:/<name>/<version>), not ${uri}`, { option: 'model' });
    const differences = signatureDifferences(signature, version.signature);
    if (differences.length) throw new ModelSignatureMismatchError(`models:/${version.name}/${version.version} (${uri})`, differences);
    return {
      requested: uri, uri: `models:/${version.name}/${version.version}`, name: version.name, version: version.version,
      label: `${version.name}/${version.version}`, signature, store: location,
    };
  } finally {
    await store.close();
  }
}

/**
 * Loads a pinned registry model (in a replica): its JSON and tensors, every file verified, its
 * signature checked again. Throws the store's errors (ArtifactCorruptError, ...) or
 * {@link ModelSignatureMismatchError}.
 */
export async function loadRegistryModel(model: RegistryModel): Promise<StoredModel> {
  const store = await openStore(model.store);
  try {
    const loaded = await store.loadModel(model.uri);
    const differences = signatureDifferences(model.signature, loaded.signature);
    if (differences.length) throw new ModelSignatureMismatchError(model.uri, differences);
    return loaded;
  } finally {
    await store.close();
  }
}

/** What deploys: a `Serve` (or its controller). */
export interface DeployTarget<S> {
  run(app: BoundDeployment, options?: DeployOptions): Promise<S>;
}

export interface RegistryDeployOptions extends RegistryModelOptions, DeployOptions {
  /** Constructor arguments after the {@link RegistryModel}. */
  args?: readonly unknown[] | undefined;
}

/**
 * Deploys `dep` serving registry model `uri`: resolves and checks it (throwing before any replica
 * starts), deploys `dep` with version label `name/version` and the pinned {@link RegistryModel} as
 * its first constructor argument, then records the deployment in the version's lineage.
 *
 * @example
 * const Recs = deployment(class Recs {
 *   readonly model: Promise<StoredModel>;
 *   constructor(ref: RegistryModel) { this.model = loadRegistryModel(ref); this.model.catch(() => undefined); }
 *   async checkHealth() { await this.model; return true; }          // a failed load fails the deploy
 *   async call(req: ServeRequest) { const m = await this.model; ... }
 * });
 * await deployFromRegistry(serve, Recs, 'models:/rental-recs@champion', { signature });
 */
export async function deployFromRegistry<S>(target: DeployTarget<S>, dep: Deployment, uri: string, options: RegistryDeployOptions): Promise<{ deployed: S; model: RegistryModel }> {
  const model = await resolveRegistryModel(uri, options);
  const { signature: _s, store: _st, args = [], ...deployOptions } = options;
  const deployed = await target.run(dep.options({ version: model.label }).bind(...([model, ...args] as never[])), deployOptions);
  const store = await openStore(model.store);
  try {
    await store.registry.recordDeployment(model.name, model.version, dep.name);
  } finally {
    await store.close();
  }
  return { deployed, model };
}
