/**
 * A serve instance as a detached actor: the controller and the HTTP ingress run in an actor thread
 * on the cluster (its own event loop, not the head's, not the deploying driver's), and outlive the
 * driver or command that started them (`startDetachedServe`, `shoal serve start --detached`). Its
 * replicas are detached too, so the end of that driver's job does not stop them. Apps come to it
 * through the admin endpoints (`shoal serve deploy <module>`: the module is imported on the worker's
 * host); `shoal serve shutdown` stops the ingress and every replica, then the actor itself.
 * One per cluster: it is the named actor `SERVE_ACTOR_NAME`; a second start finds the running one.
 */
import { actor, get, getActor, InvalidOptionError, kill, type ObjectRef } from '../core/index.js';
import { startServe } from './serve-instance.js';
import { serveLog } from './log.js';

export const SERVE_ACTOR_NAME = 'shoal-serve';

/** What a detached serve instance takes (plain data: it crosses to the actor). */
export interface DetachedServeOptions {
  /** @default '127.0.0.1' */
  host?: string | undefined;
  /** 0 picks a free port. @default 8000 */
  port?: number | undefined;
  /** Serving keys file (hashes), on the host the actor runs on. @default $SHOAL_HOME/serve-keys.json */
  serveKeysFile?: string | undefined;
  /** Largest request body, bytes. @default 1 MiB */
  maxBodyBytes?: number | undefined;
  /** How often the autoscaler looks. @default 250 */
  autoscaleIntervalMs?: number | undefined;
}

export const ServeHost = actor(class ServeHost {
  /** @internal */
  starting: Promise<{ url: string; port: number }> | undefined;

  /** Starts the instance (once; later calls answer where it listens). */
  start(options: DetachedServeOptions): Promise<{ url: string; port: number }> {
    this.starting ??= (async () => {
      const token = process.env.SHOAL_THREAD_TOKEN;
      if (!token) throw new InvalidOptionError('a detached serve instance runs in an actor on a worker (no cluster token in this thread)', { option: 'detached' });
      const serve = await startServe({ ...stripUndefined(options), clusterToken: token, detachedReplicas: true });
      // After the ingress and the replicas stopped (answering `POST /-/shutdown` first), the actor goes too.
      serve.proxy.adminHooks.shutdown = async () => {
        await serve.shutdown();
        try {
          kill(await getActor(SERVE_ACTOR_NAME));
        } catch (err) {
          serveLog.warn({ err: String(err) }, 'the detached serve actor could not stop itself');
        }
      };
      serveLog.info({ url: serve.url }, 'detached serve instance listening');
      return { url: serve.url, port: serve.port };
    })();
    return this.starting;
  }
}, { name: SERVE_ACTOR_NAME, getIfExists: true, lifetime: 'detached', numCpus: 0, maxConcurrency: 4 });

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Starts the cluster's detached serve instance (or finds the running one) and answers where its
 * ingress listens. Needs `init()`; the instance keeps running after this process exits.
 */
export async function startDetachedServe(options: DetachedServeOptions = {}): Promise<{ url: string; port: number }> {
  const h = ServeHost.remote();
  return get((h as any).start.remote(options) as ObjectRef<{ url: string; port: number }>);
}
