/**
 * The Redis test server (127.0.0.1:6379). When it is unreachable, tests skip locally but fail when
 * CI is set, so CI can never silently skip them. Each test file uses its own key prefix and clears it.
 */
import { connect } from 'node:net';

export const NO_REDIS = 'Redis is not reachable at 127.0.0.1:6379 (CI fails instead of skipping)';
export const REDIS_URL = process.env.SHOAL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** True when Redis answers PING; throws under CI when it does not. */
export async function redisAvailable(): Promise<boolean> {
  const u = new URL(REDIS_URL);
  const ok = await new Promise<boolean>((resolve) => {
    const s = connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (v: boolean): void => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(2000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
  if (!ok && process.env.CI) throw new Error(`Redis is required in CI but unreachable at ${REDIS_URL}`);
  return ok;
}

/** A key prefix unique to this process and call. */
export function uniquePrefix(name: string): string {
  return `shoal-test:${name}:${process.pid}:${Date.now().toString(36)}`;
}
