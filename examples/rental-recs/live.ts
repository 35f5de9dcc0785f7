/**
 * The rental model, live: the served model of the job as replicas (actors) behind shoal's HTTP
 * ingress, at /recommendations (recs-request.ts for the API, served-model.ts for the answers and
 * the fallback). Every answer is appended to the exposure log (a Parquet dataset under the job's
 * output folder). `npm start -- --live [--port 8000]` runs the job, then this, until interrupted.
 */
import { join } from 'node:path';
import { deployment, ParquetExposureLog, startServe, type Serve, type ServeRequest } from 'shoal/serve';
import { parseRecommendationRequest } from './recs-request.js';
import { ModelIndex, type RecommendationAnswer, type ServedModel } from './served-model.js';

/** One replica: the model indexed once, each request answered in this actor. */
export const Recommendations = deployment(class Recommendations {
  readonly index: ModelIndex;
  constructor(model: ServedModel) {
    this.index = new ModelIndex(model);
  }

  /** Warm-up before traffic: answers one known user and one fallback. */
  checkHealth(): boolean {
    const known = this.index.m.userIds[0];
    if (known !== undefined) this.index.recommend({ user: known, k: 5, nbhd: -1, context: [], unknownContext: 0 });
    this.index.recommend({ user: null, k: 5, nbhd: -1, context: [], unknownContext: 0 });
    return true;
  }

  call(req: ServeRequest): RecommendationAnswer {
    return this.index.recommend(parseRecommendationRequest(req, this.index));
  }

  /** Batched form (the serve bench's batching rows): one answer per request, in order. */
  callBatch(reqs: ServeRequest[]): RecommendationAnswer[] {
    return reqs.map((r) => this.call(r));
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

export const exposureDirOf = (outDir: string): string => join(outDir, 'exposures');
