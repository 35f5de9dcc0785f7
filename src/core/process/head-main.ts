/** Process entry of a head (started by `init()` or `shoal start --head`). */
import { Head, type HeadOptions } from '../head/head.js';
import { announceReady, failStart, onSignals, readConfig, watchParent } from './process-entry.js';

const config = readConfig<HeadOptions & { watchParent?: boolean }>();
const head = new Head(config);
head.start().then(
  (info) => {
    announceReady(info);
    onSignals(() => head.stop());
    if (config.watchParent) watchParent(() => void head.stop().finally(() => process.exit(0)));
  },
  (err) => failStart('head', err),
);
