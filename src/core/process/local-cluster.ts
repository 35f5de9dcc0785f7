/**
 * Starting clusters of real processes on this host: what `init()` does with no address (a head and
 * a worker using all cores, tied to the driver's life), what `shoal start` does (detached), and what
 * the tests' TestCluster builds on.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HeadInfo, HeadOptions } from '../head/head.js';
import { spawnEntry, stopProcess, type ClusterProcess } from './spawn.js';
import type { Resources } from '../wire/protocol.js';
import type { TlsOptions } from '../wire/transport.js';
import { makePrivateDir } from '../private-files.js';
import { pidAlive } from './pid-alive.js';

export interface LocalClusterOptions {
  /** CPUs of each worker process. @default all cores */
  numCpus?: number;
  /** Worker processes to start. @default 1 */
  numWorkers?: number;
  /** Object store memory per worker, bytes. @default 30% of free memory */
  objectStoreBytes?: number;
  /** Custom resources of every worker. */
  resources?: Resources;
  /**
   * Folder for logs, token and state. @default a new session folder under <tmp>/shoal, removed by
   * `stop()` when the cluster is attached (set SHOAL_KEEP_SESSION=1 to keep it for its logs)
   */
  dir?: string;
  host?: string;
  port?: number;
  tls?: TlsOptions;
  /** Tie the processes to this one's life. @default true */
  attached?: boolean;
  headOptions?: Partial<HeadOptions>;
}

export interface LocalCluster {
  head: HeadInfo;
  dir: string;
  processes: ClusterProcess[];
  addWorker(options?: { numCpus?: number; resources?: Resources; objectStoreBytes?: number }): Promise<ClusterProcess>;
  stop(): Promise<void>;
}

/**
 * A fresh folder for a local cluster's logs and state under <tmp>/shoal/, named after the process
 * that owns it (`session-<pid>-…`). Folders whose owner is gone (a driver that crashed or exited
 * without shutdown()) are swept here; folders of the older unnamed form go after a day.
 */
function newSessionDir(): string {
  const base = join(tmpdir(), 'shoal');
  mkdirSync(base, { recursive: true });
  const cutoff = Date.now() - 24 * 3600_000;
  for (const name of readdirSync(base)) {
    const path = join(base, name);
    const owner = /^session-(\d+)-/.exec(name);
    try {
      if (owner ? !pidAlive(Number(owner[1])) : name.startsWith('session-') && statSync(path).mtimeMs < cutoff) {
        rmSync(path, { recursive: true, force: true });
      }
    } catch {
      /* raced with another process */
    }
  }
  return mkdtempSync(join(base, `session-${process.pid}-`));
}


export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const dir = options.dir ?? newSessionDir();
  // A session folder this call made goes with an attached cluster (its processes die with the owner anyway).
  const removeAtStop = options.dir === undefined && (options.attached ?? true) && process.env.SHOAL_KEEP_SESSION !== '1';
  makePrivateDir(dir, true);
  const attached = options.attached ?? true;
  const headConfig: HeadOptions & { watchParent: boolean } = {
    dir, host: options.host ?? '127.0.0.1', port: options.port ?? 0, tls: options.tls, watchParent: attached,
    ...options.headOptions,
  };
  const headProc = await spawnEntry('head-main.js', headConfig, { attached, logFile: join(dir, 'logs', 'head.log') });
  const head = headProc.info as unknown as HeadInfo;
  const processes: ClusterProcess[] = [headProc];
  let workerIndex = 0;
  const addWorker = async (w: { numCpus?: number; resources?: Resources; objectStoreBytes?: number } = {}): Promise<ClusterProcess> => {
    const index = workerIndex++;
    const numCpus = w.numCpus ?? options.numCpus ?? availableParallelism();
    const p = await spawnEntry('worker-main.js', {
      headAddress: head.address, tokenFile: head.tokenFile, tls: options.tls, host: options.host ?? '127.0.0.1',
      numCpus, memoryBytes: Math.round(freemem() * 0.7), resources: w.resources ?? options.resources,
      dir: join(dir, 'worker'), objectStoreBytes: w.objectStoreBytes ?? options.objectStoreBytes ?? Math.round(freemem() * 0.3),
      watchParent: attached,
    }, { attached, logFile: join(dir, 'logs', `worker-${index}.log`) });
    processes.push(p);
    return p;
  };
  const n = options.numWorkers ?? 1;
  for (let i = 0; i < n; i++) await addWorker();
  return {
    head, dir, processes, addWorker,
    async stop() {
      await Promise.all(processes.map((p) => stopProcess(p.child)));
      if (removeAtStop) rmSync(dir, { recursive: true, force: true });
    },
  };
}
