/**
 * The serve layer's log (pino JSON lines): the file in SHOAL_LOG_FILE when set, else stderr. A 500's
 * request id finds its stack here; autoscaler decisions and rollouts are logged with their reasons.
 */
import { pino, type Logger } from 'pino';

const file = process.env.SHOAL_SERVE_LOG_FILE ?? process.env.SHOAL_LOG_FILE;
export const serveLog: Logger = pino(
  { level: process.env.SHOAL_LOG_LEVEL ?? (file ? 'info' : 'warn'), base: { pid: process.pid, role: 'serve' } },
  file ? pino.destination({ dest: file, sync: false, mkdir: true }) : pino.destination(2),
);
