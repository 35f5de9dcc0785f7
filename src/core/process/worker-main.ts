/** Process entry of a worker (started by `init()` or `shoal start`). */
import { readFileSync } from 'node:fs';
import { announceReady, failStart, onSignals, readConfig, watchParent } from './process-entry.js';
import { WorkerNode, type WorkerOptions } from '../worker/worker.js';

const config = readConfig<Omit<WorkerOptions, 'token'> & { token?: string; tokenFile?: string; watchParent?: boolean }>();
const token = config.token ?? (config.tokenFile ? readFileSync(config.tokenFile, 'utf8').trim() : process.env.SHOAL_TOKEN ?? '');
const worker = new WorkerNode({ ...config, token });
worker.start().then(
  () => {
    announceReady({ nodeId: worker.nodeId });
    onSignals(() => worker.stop());
    if (config.watchParent) watchParent(() => void worker.stop().finally(() => process.exit(0)));
  },
  (err) => failStart('worker', err),
);
