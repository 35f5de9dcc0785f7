/**
 * Structured logs (pino, JSON lines). Each shoal process logs to its own file under the session's
 * logs folder (set by SHOAL_LOG_FILE); without one, to stderr at warn level.
 */
import { pino, type Logger } from 'pino';

type Destination = ReturnType<typeof pino.destination>;

function makeLogger(): { log: Logger; destination: Destination } {
  const file = process.env.SHOAL_LOG_FILE;
  const level = process.env.SHOAL_LOG_LEVEL ?? (file ? 'info' : 'warn');
  const base = { pid: process.pid, role: process.env.SHOAL_ROLE ?? 'driver' };
  const destination = file ? pino.destination({ dest: file, sync: false, mkdir: true, mode: 0o600 }) : pino.destination(2);
  return { log: pino({ level, base }, destination), destination };
}

const made = makeLogger();
export const log: Logger = made.log;

/**
 * Calls `done` once what was logged so far is written. The log file opens asynchronously: exiting
 * before it is open makes pino's exit hook throw ("sonic boom is not ready yet"), so this first
 * waits for the file to be open.
 */
export function flushLog(done: () => void): void {
  const dest = made.destination as Destination & { fd: number; once(event: 'ready', cb: () => void): void };
  const flush = (): void => dest.flush(() => done());
  if (dest.fd < 0) dest.once('ready', flush);
  else flush();
}
