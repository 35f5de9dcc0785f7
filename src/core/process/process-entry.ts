/**
 * Shared plumbing of the head and worker process entries: reading their JSON config, announcing
 * readiness on stdout, and exiting with the parent when asked to (`watchParent`: the parent holds
 * our stdin; when it dies, stdin ends).
 */
import { flushLog, log } from '../log.js';

/**
 * A head or worker that could not start: logs the error, says why on stderr (one line, which the
 * starter quotes in its ProcessStartError) and exits 1 once the log is flushed. Exiting at once
 * would throw inside pino's exit hook while its file is still opening ("sonic boom is not ready")
 * and bury that line under a stack trace.
 */
export function failStart(role: string, err: unknown): void {
  log.error({ err }, `${role} failed to start`);
  process.stderr.write(`shoal ${role} failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  const exit = (): never => process.exit(1);
  setTimeout(exit, 2000).unref();
  flushLog(exit);
}

export function readConfig<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error('missing JSON config argument');
  return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as T;
}

export const encodeConfig = (config: unknown): string => Buffer.from(JSON.stringify(config)).toString('base64url');

export function announceReady(info: unknown): void {
  process.stdout.write(`SHOAL_READY ${JSON.stringify(info)}\n`);
}

export function watchParent(onGone: () => void): void {
  process.stdin.on('end', onGone);
  process.stdin.on('close', onGone);
  process.stdin.resume();
}

export function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
