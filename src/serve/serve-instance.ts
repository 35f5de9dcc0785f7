/**
 * `startServe()`: a controller and its HTTP ingress in this process (the driver, on the head's host),
 * connected to the cluster `init()` joined. Deploy with `serve.run(App.bind(...))`.
 */
import { readFileSync } from 'node:fs';
import { ServeController, type DeployOptions } from './controller.js';
import type { BoundDeployment } from './deployment.js';
import type { DeploymentState } from './deployment-state.js';
import { InvalidOptionError } from './errors.js';
import type { ExposureSink } from './exposure-log.js';
import { HttpProxy } from './http-proxy.js';
import { loadServeKeyHashes, serveKeysFile } from './serve-keys.js';
import { reportServeStatus } from './status-reporter.js';

export interface ServeOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 8000 */
  port?: number;
  /** The cluster token (admin endpoints); or `clusterTokenFile`. @default SHOAL_TOKEN, else SHOAL_TOKEN_FILE's content */
  clusterToken?: string;
  clusterTokenFile?: string;
  /** Serving keys file (hashes). @default $SHOAL_HOME/serve-keys.json */
  serveKeysFile?: string;
  /** Largest request body, bytes. @default 1 MiB */
  maxBodyBytes?: number;
  exposureLog?: ExposureSink;
  /** How often the autoscaler looks. @default 250 */
  autoscaleIntervalMs?: number;
  /** Call replicas over direct channels to their threads, not actor calls through the head. @default true */
  directCalls?: boolean;
  /** Replicas outlive the job of the process that runs this instance (a detached instance's). @default false */
  detachedReplicas?: boolean;
}

export class Serve {
  constructor(readonly controller: ServeController, readonly proxy: HttpProxy, readonly url: string, readonly port: number, private readonly exposure: ExposureSink | undefined) {}

  /** Deploys (or hot-swaps) an application and routes `routePrefix` to it. */
  run(app: BoundDeployment, options: DeployOptions = {}): Promise<DeploymentState> {
    return this.controller.deploy(app, options);
  }

  private stopping: Promise<void> | undefined;
  private readonly stoppedWaiters: Array<() => void> = [];

  /** Stops the ingress, drains and stops every replica, flushes the exposure log (once, however often called). */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      await this.proxy.close();
      await this.controller.shutdown();
      await this.exposure?.close();
      for (const w of this.stoppedWaiters.splice(0)) w();
    })();
    return this.stopping;
  }

  /** Resolves once the instance stopped (`shutdown()`, or `POST /-/shutdown` from `shoal serve shutdown`). */
  stopped(): Promise<void> {
    return this.stopping ?? new Promise((resolve) => this.stoppedWaiters.push(resolve));
  }
}

export async function startServe(options: ServeOptions = {}): Promise<Serve> {
  let token = options.clusterToken ?? process.env.SHOAL_TOKEN;
  const tokenFile = options.clusterTokenFile ?? process.env.SHOAL_TOKEN_FILE;
  if (!token && tokenFile) token = readFileSync(tokenFile, 'utf8').trim();
  if (!token) throw new InvalidOptionError('startServe needs the cluster token: options.clusterToken or options.clusterTokenFile (or SHOAL_TOKEN / SHOAL_TOKEN_FILE)', { option: 'clusterToken' });
  const controller = new ServeController({ autoscaleIntervalMs: options.autoscaleIntervalMs, directCalls: options.directCalls, detachedReplicas: options.detachedReplicas });
  const keysFile = options.serveKeysFile ?? serveKeysFile();
  const proxy = new HttpProxy(controller, {
    host: options.host, port: options.port, clusterToken: token, maxBodyBytes: options.maxBodyBytes,
    serveKeyHashes: loadServeKeyHashes(keysFile), serveKeysFile: keysFile, exposureLog: options.exposureLog,
  });
  const { url, port } = await proxy.listen();
  const serve = new Serve(controller, proxy, url, port, options.exposureLog);
  proxy.adminHooks.shutdown = () => serve.shutdown();
  reportServeStatus(serve);
  return serve;
}
