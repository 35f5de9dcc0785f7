/**
 * Shared plumbing of the head and worker process entries: reading their JSON config, announcing
 * readiness on stdout, and exiting with the parent when asked to (`watchParent`: the parent holds
 * our stdin; when it dies, stdin ends).
 */
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
