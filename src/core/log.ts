/**
 * Structured logs (pino, JSON lines). Each shoal process logs to its own file under the session's
 * logs folder (set by SHOAL_LOG_FILE); without one, to stderr at warn level.
 */
import { pino, type Logger } from 'pino';

function makeLogger(): Logger {
  const file = process.env.SHOAL_LOG_FILE;
  const level = process.env.SHOAL_LOG_LEVEL ?? (file ? 'info' : 'warn');
  const base = { pid: process.pid, role: process.env.SHOAL_ROLE ?? 'driver' };
  if (file) return pino({ level, base }, pino.destination({ dest: file, sync: false, mkdir: true }));
  return pino({ level, base }, pino.destination(2));
}

export const log: Logger = makeLogger();
