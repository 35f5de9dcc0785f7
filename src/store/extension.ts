/**
 * The store's REST API as a head extension (core's head-extension.ts): a head started with this
 * module in `extensions` (`shoal start --head` does) serves http/store-api.ts at /api/store/ on its
 * HTTP port, behind the cluster token (`Authorization: Bearer <token>`, compared in constant time by
 * the head). The store is found as the CLI finds it (store-location.ts: SHOAL_METADATA_URL, else
 * $SHOAL_HOME/store) and opened on the first request, so a head starts while its database is down
 * and answers 503 with the reason until it is up. An extension loaded after this one may mount the
 * same prefix to replace it (the last mount of a prefix wins): the dashboard does, to add its login.
 */
import type { IncomingMessage } from 'node:http';
import type { HeadHost } from '../core/index.js';
import { STORE_API_PREFIX, storeApi } from './http/store-api.js';
import { Store } from './store.js';

/** The bearer token of a request, or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

export function mountHead(host: HeadHost): void {
  let opening: Promise<Store> | undefined;
  const open = (): Promise<Store> => {
    opening ??= Store.open().catch((err: unknown) => {
      opening = undefined;
      throw err;
    });
    return opening;
  };
  const api = storeApi(open, {
    authorize: (req) => {
      const token = bearerToken(req);
      return token !== undefined && host.checkToken(token);
    },
    actor: () => `rest-api (cluster ${host.info.clusterId})`,
  });
  host.mountHttp('store', `${STORE_API_PREFIX}/`, (req, res) => void api(req, res));
}
