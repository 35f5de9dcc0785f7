/**
 * The load a replica sees from handles (deployment-to-deployment calls, which never pass the
 * ingress): the handle calls through `INVOKE_METHOD`, which counts the calls in flight, and the
 * controller's autoscaler asks each replica for the average of that count since it last asked
 * (`LOAD_METHOD`), adding it to the ongoing requests it counts at the ingress.
 */

/** The method `deployment()` adds: runs `method(...args)` on the replica, counted as handle load. */
export const INVOKE_METHOD = '__shoalInvoke';
/** The method `deployment()` adds: the average number of handle calls in flight since the last ask. */
export const LOAD_METHOD = '__shoalLoad';

/** Time-weighted average of the calls in flight between two reads. */
export class LoadMeter {
  private ongoing = 0;
  private area = 0;
  private last = performance.now();
  private since = this.last;

  private advance(): void {
    const now = performance.now();
    this.area += this.ongoing * (now - this.last);
    this.last = now;
  }

  enter(): void {
    this.advance();
    this.ongoing++;
  }

  leave(): void {
    this.advance();
    this.ongoing--;
  }

  /** The average since the previous read (or since start), and starts a new window. */
  read(): number {
    this.advance();
    const avg = this.last > this.since ? this.area / (this.last - this.since) : this.ongoing;
    this.area = 0;
    this.since = this.last;
    return avg;
  }
}

const meters = new WeakMap<object, LoadMeter>();

function meterOf(instance: object): LoadMeter {
  let m = meters.get(instance);
  if (!m) meters.set(instance, (m = new LoadMeter()));
  return m;
}

/** What INVOKE_METHOD runs in the replica: the named method, counted while it runs. */
export async function invokeCounted(instance: Record<string, unknown>, className: string, method: string, args: unknown[]): Promise<unknown> {
  const fn = instance[method];
  if (typeof fn !== 'function' || method === 'constructor' || method.startsWith('__shoal')) {
    throw new TypeError(`deployment class ${className} has no method ${method}`);
  }
  const m = meterOf(instance);
  m.enter();
  try {
    return await (fn as (...a: unknown[]) => unknown).apply(instance, args);
  } finally {
    m.leave();
  }
}

/** What LOAD_METHOD answers. */
export function readLoad(instance: object): number {
  return meterOf(instance).read();
}
