/** Process entry of a head (started by `init()` or `shoal start --head`). */
import { Head, type HeadOptions } from './head.js';
import { log } from './log.js';
import { announceReady, onSignals, readConfig, watchParent } from './process-entry.js';

const config = readConfig<HeadOptions & { watchParent?: boolean }>();
const head = new Head(config);
head.start().then(
  (info) => {
    announceReady(info);
    onSignals(() => head.stop());
    if (config.watchParent) watchParent(() => void head.stop().finally(() => process.exit(0)));
  },
  (err) => {
    log.error({ err }, 'head failed to start');
    process.stderr.write(`shoal head failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
