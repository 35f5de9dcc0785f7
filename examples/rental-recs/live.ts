/**
 * The rental model, live: the served model of the job as replicas (actors) behind shoal's HTTP
 * ingress, at /recommendations (recs-request.ts for the API, served-model.ts for the answers and
 * the fallback). Every answer is appended to the exposure log (a Parquet dataset under the job's
 * output folder). `npm start -- --serve [--port 8000]` runs the job, then this, until interrupted:
 * the registry's champion (`models:/rental-recs@champion`, serveFromRegistry) when the job
 * registered its model, else the job's model as it is (serveModel).
 *
 * Features (serving-features.ts): given the job's `ServingFeatures`, each replica reads the user's
 * aggregates and the answered listings' attributes from the feature store's online store per
 * request (Redis, or a copy of the job's in-process store); without them it answers from the model
 * alone. Redis down: the model's answer with `features.unavailable`, never a hang or a 500.
 */
import { join } from 'node:path';
import { deployFromRegistry, deployment, loadRegistryModel, ParquetExposureLog, startServe, type RegistryModel, type Serve, type ServeRequest } from 'shoal/serve';
import type { StoreOptions } from 'shoal/store';
import { startLive, type LiveModelOptions, type LiveSourceSpec, type LiveUpdates, type OnBatch } from './live-updates.js';
import { SERVED_MODEL_SIGNATURE, servedModelFromStored } from './model-store.js';
import { parseRecommendationRequest } from './recs-request.js';
import { ModelIndex, type LiveUpdate, type RecommendationAnswer, type ServedModel } from './served-model.js';
import { FeatureLookup, openServingFeatures, recommendWithFeatures, type ServingFeatures } from './serving-features.js';

/** Answers one known user and one fallback: the replicas' warm-up before traffic. */
function warmUp(index: ModelIndex): boolean {
  const known = index.m.userIds[0];
  if (known !== undefined) index.recommend({ user: known, k: 5, nbhd: -1, context: [], unknownContext: 0 });
  index.recommend({ user: null, k: 5, nbhd: -1, context: [], unknownContext: 0 });
  return true;
}

/** One request's answer: the model's, with the feature store's values when the replica has them. */
function answer(index: ModelIndex, features: FeatureLookup | null, req: ServeRequest): RecommendationAnswer | Promise<RecommendationAnswer> {
  const q = parseRecommendationRequest(req, index);
  return features === null ? index.recommend(q) : recommendWithFeatures(index, features, q);
}

/** One replica: the model indexed once, each request answered in this actor. */
export const Recommendations = deployment(class Recommendations {
  readonly index: ModelIndex;
  readonly features: FeatureLookup | null;
  constructor(model: ServedModel, features?: ServingFeatures | null) {
    this.index = new ModelIndex(model);
    this.features = features == null ? null : new FeatureLookup(openServingFeatures(features));
  }

  /** Warm-up before traffic: answers one known user and one fallback. */
  checkHealth(): boolean {
    return warmUp(this.index);
  }

  call(req: ServeRequest): RecommendationAnswer | Promise<RecommendationAnswer> {
    return answer(this.index, this.features, req);
  }

  /** Batched form (the serve bench's batching rows): one answer per request, in order. */
  callBatch(reqs: ServeRequest[]): Promise<RecommendationAnswer[]> {
    return Promise.all(reqs.map(async (r) => this.call(r)));
  }

  /** A live update's new vectors (live-updates.ts broadcasts it to every replica); returns the users changed. */
  applyLive(update: LiveUpdate): number {
    return this.index.apply(update);
  }

  /** A user's vector and rated listings as this replica serves them, and the last live update's seq. */
  userState(user: string): { seq: number; user: { factors: number[]; seen: string[] } | null } {
    return { seq: this.index.liveSeq, user: this.index.userState(user) };
  }
}, { name: 'recommendations', numReplicas: 2, maxOngoingRequests: 32, maxQueuedRequests: 256 });

/**
 * One replica serving a version from the model registry: it loads the pinned version from the
 * platform store itself (verified files, no code run); a failed load fails its health check, so the
 * deploy fails before traffic.
 */
export const RegistryRecommendations = deployment(class RegistryRecommendations {
  readonly index: Promise<ModelIndex>;
  readonly features: FeatureLookup | null;
  constructor(ref: RegistryModel, features?: ServingFeatures | null) {
    this.index = loadRegistryModel(ref).then((s) => new ModelIndex(servedModelFromStored(s)));
    this.index.catch(() => undefined);
    this.features = features == null ? null : new FeatureLookup(openServingFeatures(features));
  }

  async checkHealth(): Promise<boolean> {
    return warmUp(await this.index);
  }

  async call(req: ServeRequest): Promise<RecommendationAnswer> {
    return answer(await this.index, this.features, req);
  }

  async callBatch(reqs: ServeRequest[]): Promise<RecommendationAnswer[]> {
    const index = await this.index;
    return Promise.all(reqs.map(async (r) => answer(index, this.features, r)));
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
  /** The job's feature store for the replicas (servingFeaturesOf(result.featureStore)). @default none: the model alone */
  features?: ServingFeatures | undefined;
}

/** Starts the ingress and deploys the model at /recommendations. */
export async function serveModel(model: ServedModel, o: LiveOptions): Promise<{ serve: Serve; exposure: ParquetExposureLog }> {
  const exposure = new ParquetExposureLog(o.exposureDir, { flushIntervalMs: o.flushIntervalMs ?? 1000 });
  const serve = await startServe({ host: o.host, port: o.port ?? 8000, clusterTokenFile: o.clusterTokenFile, serveKeysFile: o.serveKeysFile, exposureLog: exposure });
  try {
    await serve.run(Recommendations.options({ version: model.version, numReplicas: o.numReplicas ?? 2 }).bind(model, o.features), { routePrefix: '/recommendations' });
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
      signature: SERVED_MODEL_SIGNATURE, store: o.store, routePrefix: '/recommendations', args: o.features === undefined ? [] : [o.features],
    });
    return { serve, exposure, model };
  } catch (err) {
    await serve.shutdown();
    throw err;
  }
}

/**
 * Starts the ingress and the live job (live-updates.ts): ALS fitted on the data at the start, served
 * at /recommendations, new ratings from `live.source` applied as they arrive; `live.retrain()`
 * replaces the model by hot swap. Stop with `live.stop()`, then `serve.shutdown()`.
 */
export async function serveLive(o: LiveOptions & LiveModelOptions & { source: LiveSourceSpec; onBatch?: OnBatch | undefined }): Promise<{ serve: Serve; exposure: ParquetExposureLog; live: LiveUpdates }> {
  const exposure = new ParquetExposureLog(o.exposureDir, { flushIntervalMs: o.flushIntervalMs ?? 1000 });
  const serve = await startServe({ host: o.host, port: o.port ?? 8000, clusterTokenFile: o.clusterTokenFile, serveKeysFile: o.serveKeysFile, exposureLog: exposure });
  try {
    const deploy = async (model: ServedModel): Promise<void> => {
      await serve.run(Recommendations.options({ version: model.version, numReplicas: o.numReplicas ?? 2 }).bind(model, o.features), { routePrefix: '/recommendations' });
    };
    const live = await startLive(o, { serve, deploy });
    return { serve, exposure, live };
  } catch (err) {
    await serve.shutdown();
    throw err;
  }
}

export const exposureDirOf = (outDir: string): string => join(outDir, 'exposures');
