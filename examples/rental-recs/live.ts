/**
 * The rental model, live: the served model of the job as replicas (actors) behind shoal's HTTP
 * ingress, at /recommendations (recs-request.ts for the API, served-model.ts for the answers and
 * the fallback). Every answer is appended to the exposure log (a Parquet dataset under the job's
 * output folder). `npm start -- --live [--port 8000]` runs the job, then this, until interrupted:
 * the registry's champion (`models:/rental-recs@champion`, serveFromRegistry) when the job
 * registered its model, else the job's model as it is (serveModel).
 */
import { join } from 'node:path';
import { deployFromRegistry, deployment, loadRegistryModel, ParquetExposureLog, startServe, type RegistryModel, type Serve, type ServeRequest } from 'shoal/serve';
import type { StoreOptions } from 'shoal/store';
import { SERVED_MODEL_SIGNATURE, servedModelFromStored } from './model-store.js';
import { parseRecommendationRequest } from './recs-request.js';
import { ModelIndex, type RecommendationAnswer, type ServedModel } from './served-model.js';

/** Answers one known user and one fallback: the replicas' warm-up before traffic. */
function warmUp(index: ModelIndex): boolean {
  const known = index.m.userIds[0];
  if (known !== undefined) index.recommend({ user: known, k: 5, nbhd: -1, context: [], unknownContext: 0 });
  index.recommend({ user: null, k: 5, nbhd: -1, context: [], unknownContext: 0 });
  return true;
}

/** One replica: the model indexed once, each request answered in this actor. */
export const Recommendations = deployment(class Recommendations {
  readonly index: ModelIndex;
  constructor(model: ServedModel) {
    this.index = new ModelIndex(model);
  }

  /** Warm-up before traffic: answers one known user and one fallback. */
  checkHealth(): boolean {
    return warmUp(this.index);
  }

  call(req: ServeRequest): RecommendationAnswer {
    return this.index.recommend(parseRecommendationRequest(req, this.index));
  }

  /** Batched form (the serve bench's batching rows): one answer per request, in order. */
  callBatch(reqs: ServeRequest[]): RecommendationAnswer[] {
    return reqs.map((r) => this.call(r));
  }
}, { name: 'recommendations', numReplicas: 2, maxOngoingRequests: 32, maxQueuedRequests: 256 });

/**
 * One replica serving a version from the model registry: it loads the pinned version from the
 * platform store itself (verified files, no code run); a failed load fails its health check, so the
 * deploy fails before traffic.
 */
export const RegistryRecommendations = deployment(class RegistryRecommendations {
  readonly index: Promise<ModelIndex>;
  constructor(ref: RegistryModel) {
    this.index = loadRegistryModel(ref).then((s) => new ModelIndex(servedModelFromStored(s)));
    this.index.catch(() => undefined);
  }

  async checkHealth(): Promise<boolean> {
    return warmUp(await this.index);
  }

  async call(req: ServeRequest): Promise<RecommendationAnswer> {
    const index = await this.index;
    return index.recommend(parseRecommendationRequest(req, index));
  }

  async callBatch(reqs: ServeRequest[]): Promise<RecommendationAnswer[]> {
    const index = await this.index;
    return reqs.map((r) => index.recommend(parseRecommendationRequest(r, index)));
  }
}, { name: 'recommendations', numReplicas: 2, maxOngoingRequests: 32, maxQueuedRequests: 256 });

export interface LiveOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 8000 */
  port?: number;
  numReplicas?: number;
  /** The cluster token file (`init()` returns it). @default SHOAL_TOKEN / SHOAL_TOKEN_FILE */
  clusterTokenFile?: string | undefined;
  /** Serving keys file. @default $SHOAL_HOME/serve-keys.json */
  serveKeysFile?: string;
  /** Folder of the exposure log (a Parquet dataset). */
  exposureDir: string;
  /** Exposure log flush interval. @default 1000 */
  flushIntervalMs?: number;
}

/** Starts the ingress and deploys the model at /recommendations. */
export async function serveModel(model: ServedModel, o: LiveOptions): Promise<{ serve: Serve; exposure: ParquetExposureLog }> {
  const exposure = new ParquetExposureLog(o.exposureDir, { flushIntervalMs: o.flushIntervalMs ?? 1000 });
  const serve = await startServe({ host: o.host, port: o.port ?? 8000, clusterTokenFile: o.clusterTokenFile, serveKeysFile: o.serveKeysFile, exposureLog: exposure });
  try {
    await serve.run(Recommendations.options({ version: model.version, numReplicas: o.numReplicas ?? 2 }).bind(model), { routePrefix: '/recommendations' });
  } catch (err) {
    await serve.shutdown();
    throw err;
  }
  return { serve, exposure };
}

/**
 * Starts the ingress and serves registry model `uri` (e.g. `models:/rental-recs@champion`) at
 * /recommendations: its stored signature must be the served model's (SERVED_MODEL_SIGNATURE), and
 * the `x-shoal-version` header is the registry version (`rental-recs/7`).
 */
export async function serveFromRegistry(uri: string, o: LiveOptions & { store?: StoreOptions | undefined }): Promise<{ serve: Serve; exposure: ParquetExposureLog; model: RegistryModel }> {
  const exposure = new ParquetExposureLog(o.exposureDir, { flushIntervalMs: o.flushIntervalMs ?? 1000 });
  const serve = await startServe({ host: o.host, port: o.port ?? 8000, clusterTokenFile: o.clusterTokenFile, serveKeysFile: o.serveKeysFile, exposureLog: exposure });
  try {
    const { model } = await deployFromRegistry(serve, RegistryRecommendations.options({ numReplicas: o.numReplicas ?? 2 }), uri, {
      signature: SERVED_MODEL_SIGNATURE, store: o.store, routePrefix: '/recommendations',
    });
    return { serve, exposure, model };
  } catch (err) {
    await serve.shutdown();
    throw err;
  }
}

export const exposureDirOf = (outDir: string): string => join(outDir, 'exposures');
