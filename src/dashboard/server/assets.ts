/**
 * The bundled front end (scripts/build-dashboard.mjs writes it to dist/src/dashboard/assets at
 * build time): read once, served with long caching off (the names carry no hash).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../core/index.js';
import { DashboardError } from '../errors.js';
import { SECURITY_HEADERS } from './http.js';

export const ASSETS_DIR = join(PACKAGE_ROOT, 'dist', 'src', 'dashboard', 'assets');

const TYPES: Record<string, string> = { 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' };

export class Assets {
  private readonly files = new Map<string, Buffer>();

  /** Loads the bundle; a DashboardError when the package was not built. */
  constructor(dir = ASSETS_DIR) {
    for (const name of Object.keys(TYPES)) {
      const path = join(dir, name);
      if (!existsSync(path)) throw new DashboardError(`dashboard asset ${path} is missing: run \`npm run build\``);
      this.files.set(name, readFileSync(path));
    }
  }

  /** Serves /assets/<name>; false when there is no such asset. */
  serve(name: string, res: ServerResponse): boolean {
    const body = this.files.get(name);
    if (!body) return false;
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': TYPES[name]!, 'content-length': String(body.length) });
    res.end(body);
    return true;
  }
}
