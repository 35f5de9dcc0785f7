/**
 * The one harness of the integration tests: a real cluster of processes on this host (a head and N
 * worker processes, spawned by shoal's own `startLocalCluster`) with this test process connected
 * as its driver. Like grpc-js `test/common.ts` TestServer: `start()` in `beforeAll`, `stop()` in
 * `afterAll`. `stop()` never throws and always kills every process; a process 'exit' hook kills
 * what a crashed or interrupted test run left behind, so no head or worker outlives vitest.
 *
 * It imports shoal by package name (dist/), like the fixtures: a driver and the workers must run
 * the same copy of the runtime.
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import {
  clusterStatus, init, isInitialized, shutdown, startLocalCluster, type ClusterInfo, type LocalCluster, type LocalClusterOptions,
} from 'shoal';

type ClusterProcess = LocalCluster['processes'][number];
export type ClusterStatus = Awaited<ReturnType<typeof clusterStatus>>;

export interface TestClusterOptions {
  /** Worker processes started with the head. @default 1 */
  numWorkers?: number;
  /** CPUs of each worker (its task thread count). @default 2 */
  numCpus?: number;
  /** Custom resources of every worker started with the head. */
  resources?: Record<string, number>;
  /** Object store capacity of each worker, bytes. @default 256 MiB */
  objectStoreBytes?: number;
  headOptions?: LocalClusterOptions['headOptions'];
  /** Connect this process as the driver (`init()`). @default true */
  connect?: boolean;
  /** Wait until the head lists every worker. @default true */
  waitForNodes?: boolean;
}

export interface HeadInfo {
  address: string;
  port: number;
  metricsPort: number;
  tokenFile: string;
  dir: string;
}

const live = new Set<TestCluster>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous last resort: SIGKILL whatever is still running when this process exits.
  process.on('exit', () => {
    for (const c of live) c.killAllNow();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

export class TestCluster {
  /** What `init()` returned (undefined when started with `connect: false`). */
  driver?: ClusterInfo | undefined;
  private stopped = false;

  private constructor(readonly cluster: LocalCluster, readonly options: TestClusterOptions) {}

  /** Starts a head and `numWorkers` workers, then connects this process as the driver. */
  static async start(options: TestClusterOptions = {}): Promise<TestCluster> {
    installExitHook();
    const numWorkers = options.numWorkers ?? 1;
    const lc = await startLocalCluster({
      numWorkers,
      numCpus: options.numCpus ?? 2,
      resources: options.resources,
      objectStoreBytes: options.objectStoreBytes ?? 256 * 2 ** 20,
      headOptions: options.headOptions,
    });
    const tc = new TestCluster(lc, options);
    live.add(tc);
    try {
      if (options.connect ?? true) {
        tc.driver = await init({ address: lc.head.address, tokenFile: lc.head.tokenFile });
        if (options.waitForNodes ?? true) await tc.waitForNodes(numWorkers);
      }
    } catch (err) {
      await tc.stop();
      throw err;
    }
    return tc;
  }

  get headInfo(): HeadInfo {
    return this.cluster.head as HeadInfo;
  }

  get address(): string {
    return this.cluster.head.address;
  }

  /** The cluster token (from the head's token file). */
  get token(): string {
    return readFileSync(this.cluster.head.tokenFile, 'utf8').trim();
  }

  /** Worker processes, in start order (killed ones included). */
  get workers(): ClusterProcess[] {
    return this.cluster.processes.slice(1);
  }

  get headProcess(): ClusterProcess {
    return this.cluster.processes[0]!;
  }

  /** Node id the i-th worker announced. */
  nodeId(i: number): string {
    return String(this.worker(i).info.nodeId);
  }

  private worker(i: number): ClusterProcess {
    const w = this.workers[i];
    if (!w) throw new Error(`no worker ${i} (cluster has ${this.workers.length})`);
    return w;
  }

  /** SIGKILLs worker process `i` and waits until it is gone. */
  async killWorker(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const { child } = this.worker(i);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Starts one more worker process; resolves when the head lists it. Returns its index. */
  async addWorker(options: { numCpus?: number; resources?: Record<string, number>; objectStoreBytes?: number } = {}): Promise<number> {
    const p = await this.cluster.addWorker({ numCpus: options.numCpus ?? this.options.numCpus ?? 2, ...options });
    const nodeId = String(p.info.nodeId);
    if (isInitialized()) await waitFor(`node ${nodeId} to join`, async () => (await this.status()).nodes.some((n) => n.id === nodeId));
    return this.workers.indexOf(p);
  }

  /** The head's view: nodes, tasks, actors, jobs. */
  status(): Promise<ClusterStatus> {
    return clusterStatus();
  }

  /** Waits until the head lists exactly `n` alive nodes. */
  async waitForNodes(n: number, timeoutMs = 15_000): Promise<ClusterStatus> {
    return waitFor(`${n} alive node(s)`, async () => {
      const s = await this.status();
      return s.nodes.filter((x) => x.alive).length === n ? s : undefined;
    }, timeoutMs);
  }

  /** Disconnects the driver and stops every process; never throws, safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      if (isInitialized()) await shutdown();
    } catch {
      /* keep stopping */
    }
    try {
      await this.cluster.stop();
    } catch {
      /* killed below */
    }
    this.killAllNow();
    live.delete(this);
    // SHOAL_TEST_KEEP_DIRS=1 keeps the cluster's folder (logs of head and workers) for a post-mortem.
    if (process.env.SHOAL_TEST_KEEP_DIRS) return;
    await rm(this.cluster.dir, { recursive: true, force: true }).catch(() => undefined);
  }

  /** SIGKILLs every process still alive (synchronous; used by the exit hook). */
  killAllNow(): void {
    for (const p of this.cluster.processes) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        try {
          p.child.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  }
}
