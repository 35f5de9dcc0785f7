/**
 * What `shoal serve deploy` hands a running instance: a module on the instance's host whose export
 * is an application (a bound deployment, or a deployment with no constructor arguments), or a YAML
 * config listing such modules. The instance imports the module (again, as a new module, when the
 * file changed since it was last imported, so a changed file deploys its new code) and deploys it: a
 * new name starts, a known name is hot-swapped. The deployment lives in the instance, not in the
 * command that sent it.
 */
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ServeController } from './controller.js';
import { BoundDeployment, Deployment } from './deployment.js';
import { BadRequestError } from './errors.js';

/** Modification time of each module path when it was last imported. */
const imported = new Map<string, number>();

export interface DeployRequest {
  /** Absolute path of the module on the instance's host. */
  module: string;
  /** The export holding the application. @default 'app', else the default export */
  export?: string | undefined;
  /** Route prefix. @default `/${name}` */
  routePrefix?: string | undefined;
}

/** Imports `r.module` and deploys its application; returns the deployment's name and version. */
export async function deployModule(controller: ServeController, r: DeployRequest): Promise<{ name: string; version: string; route: string }> {
  if (!isAbsolute(r.module)) throw new BadRequestError(`module must be an absolute path on the serve host (got ${r.module})`);
  let mtime: number;
  try {
    mtime = statSync(r.module).mtimeMs;
  } catch {
    throw new BadRequestError(`module ${r.module} does not exist on the serve host`);
  }
  let mod: Record<string, unknown>;
  try {
    // The plain URL the first time (the path workers import the classes by); a query only to get
    // past the module cache when the file changed since.
    const seen = imported.get(r.module);
    const url = pathToFileURL(r.module).href;
    mod = (await import(seen === undefined || seen === mtime ? url : `${url}?v=${mtime}`)) as Record<string, unknown>;
    imported.set(r.module, mtime);
  } catch (err) {
    throw new BadRequestError(`module ${r.module} failed to import: ${(err as Error).message}`);
  }
  const name = r.export ?? ('app' in mod ? 'app' : 'default');
  let app = mod[name];
  if (app instanceof Deployment) app = app.bind(...([] as never[]));
  if (!(app instanceof BoundDeployment)) {
    const apps = Object.keys(mod).filter((k) => mod[k] instanceof BoundDeployment || mod[k] instanceof Deployment);
    throw new BadRequestError(`export ${name} of ${r.module} is not an application (App.bind(...) or a deployment); its applications: ${apps.join(', ') || 'none'}`);
  }
  const d = await controller.deploy(app, r.routePrefix ? { routePrefix: r.routePrefix } : {});
  return { name: d.name, version: d.stable.version, route: d.route };
}
