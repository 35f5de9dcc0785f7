/**
 * The ingress's admin endpoints (under `/-/`, the cluster token required; `shoal serve` calls them):
 *
 *   GET  /-/healthz                          no token: liveness
 *   GET  /-/status                           deployments, replicas, traffic, autoscaler decisions
 *   POST /-/rollout   {name, weight, canary?} the running canary's weight (canary: its version, checked)
 *   POST /-/rollback  {name}                 drop the canary, else back to the previous version
 *   POST /-/deploy    {module, export?, routePrefix?}  import a module on this host, deploy (or hot-swap) its app
 *   POST /-/keys/reload                      re-read the serving keys file (after `shoal serve keys create`)
 *   POST /-/shutdown                         answer, then stop the ingress and every replica
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServeController } from './controller.js';
import { deployModule } from './deploy-module.js';
import { BadRequestError, InvalidOptionError, UnauthorizedError } from './errors.js';
import { bearer, parseJson, readBody, send } from './http-util.js';
import { sameSecret } from './serve-keys.js';

export interface AdminHooks {
  /** Stops the serve instance (called after the answer left). */
  shutdown?: () => Promise<void>;
}

export interface AdminRequest {
  req: IncomingMessage;
  res: ServerResponse;
  pathname: string;
  controller: ServeController;
  clusterToken: string;
  maxBodyBytes: number;
  hooks: AdminHooks;
  reloadKeys: () => number;
}

const ENDPOINTS = 'GET /-/healthz, GET /-/status, POST /-/rollout, POST /-/rollback, POST /-/deploy, POST /-/keys/reload, POST /-/shutdown';

function field<T>(body: Record<string, unknown>, name: string, check: (v: unknown) => v is T, what: string): T {
  const v = body[name];
  if (!check(v)) throw new BadRequestError(`field ${name} must be ${what} (got ${JSON.stringify(v)})`);
  return v;
}
const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export async function handleAdmin(a: AdminRequest): Promise<void> {
  const { req, res, pathname, controller } = a;
  if (pathname === '/-/healthz') {
    send(res, 200, { ok: true });
    return;
  }
  const token = bearer(req);
  if (!token || !sameSecret(token, a.clusterToken)) throw new UnauthorizedError('admin endpoints need the cluster token (`Authorization: Bearer <token>`)');
  const parsed = parseJson(await readBody(req, a.maxBodyBytes));
  const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  switch (`${req.method} ${pathname}`) {
    case 'GET /-/status':
      send(res, 200, controller.status());
      return;
    case 'POST /-/rollout': {
      const name = field(body, 'name', isString, 'a deployment name');
      const weight = field(body, 'weight', isNumber, 'a number from 0 to 100');
      const running = controller.get(name).canary?.state.version;
      if (body.canary !== undefined && body.canary !== running) {
        throw new InvalidOptionError(
          running ? `deployment ${name}'s canary is version ${running}, not ${String(body.canary)}`
            : `deployment ${name} has no canary: start version ${String(body.canary)} as one from code (serve.controller.rollout(name, App.bind(...), weight)) first`,
          { option: 'canary' },
        );
      }
      await controller.rollout(name, undefined, weight);
      send(res, 200, controller.status());
      return;
    }
    case 'POST /-/rollback':
      await controller.rollback(field(body, 'name', isString, 'a deployment name'));
      send(res, 200, controller.status());
      return;
    case 'POST /-/deploy': {
      const module = field(body, 'module', isString, 'an absolute path of a module on the serve host');
      const exp = body.export === undefined ? undefined : field(body, 'export', isString, 'an export name');
      const routePrefix = body.routePrefix === undefined ? undefined : field(body, 'routePrefix', isString, 'a path prefix');
      send(res, 200, await deployModule(controller, { module, export: exp, routePrefix }));
      return;
    }
    case 'POST /-/keys/reload':
      send(res, 200, { keys: a.reloadKeys() });
      return;
    case 'POST /-/shutdown':
      if (!a.hooks.shutdown) throw new BadRequestError('this ingress was started without a shutdown hook (not by startServe)');
      send(res, 200, { stopping: true });
      res.once('finish', () => void a.hooks.shutdown!());
      return;
    default:
      send(res, 404, { error: `no admin endpoint ${req.method} ${pathname} (have: ${ENDPOINTS})` });
  }
}
