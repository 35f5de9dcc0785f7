/**
 * The autoscaler: when tasks, actors or placement groups wait for resources no node has free, the
 * head asks a node provider for another worker; workers idle for `idleTimeoutS` are removed, always
 * within `minWorkers`..`maxWorkers`. Every decision is logged with its reason and kept for
 * `shoal status`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeadState } from './head-state.js';
import { newNodeId } from '../ids.js';
import { spawnEntry, stopProcess, type ClusterProcess } from '../process/spawn.js';
import { log } from '../log.js';
import type { Resources } from '../wire/protocol.js';
import { startRemote, stopRemote, type HostTarget, type RemoteRuntime } from '../process/remote-host.js';
import { fits } from './scheduling-policy.js';

export interface AutoscalerOptions {
  /** Workers kept even when idle. @default 0 */
  minWorkers?: number;
  /** Workers the autoscaler may run at once. @default 4 */
  maxWorkers?: number;
  /** A worker with nothing to run or hold for this long is removed. @default 60 */
  idleTimeoutS?: number;
  /** Resources of each launched worker. @default { CPU: 1 } */
  workerResources?: Resources;
  /** Object store of each launched worker, bytes. @default 1 GiB */
  workerObjectStoreBytes?: number;
  /** Where workers are launched. @default local processes on the head's host */
  provider?: SshProviderOptions;
}

/** The hosts of a cluster YAML (`shoal up`): workers are started on them over SSH. */
export interface SshProviderOptions {
  type: 'ssh';
  /** The hosts, each with how to reach it. Workers go to the host running the fewest of them. */
  hosts: HostTarget[];
  runtime: RemoteRuntime;
  /** Memory each worker offers to tasks, bytes. @default 2 GiB */
  workerMemoryBytes?: number;
}

export interface AutoscalerDecision {
  at: number;
  action: 'launch' | 'terminate' | 'hold';
  nodeId?: string | undefined;
  reason: string;
}

/** Starts and stops worker nodes. */
export interface NodeProvider {
  readonly name: string;
  /** Launches a worker that joins with node id `nodeId`. */
  launch(nodeId: string): Promise<void>;
  terminate(nodeId: string): Promise<void>;
  /** Node ids this provider launched and has not terminated. */
  launched(): string[];
  stopAll(): Promise<void>;
}

/** Workers as processes on the head's host (tied to the head's life). */
export class LocalProcessProvider implements NodeProvider {
  readonly name = 'local';
  private readonly procs = new Map<string, ClusterProcess>();

  constructor(
    private readonly head: { address: string; tokenFile: string; dir: string; host: string },
    private readonly worker: { resources: Resources; objectStoreBytes: number },
  ) {}

  async launch(nodeId: string): Promise<void> {
    const { CPU = 1, memory, ...custom } = this.worker.resources;
    const p = await spawnEntry('worker-main.js', {
      headAddress: this.head.address, tokenFile: this.head.tokenFile, host: this.head.host, nodeId,
      numCpus: CPU, memoryBytes: memory ?? 2 * 1024 ** 3, resources: custom, dir: join(this.head.dir, 'worker'),
      objectStoreBytes: this.worker.objectStoreBytes, watchParent: true,
    }, { attached: true, logFile: join(this.head.dir, 'logs', `autoscaled-${nodeId}.log`) });
    this.procs.set(nodeId, p);
    p.child.once('exit', () => this.procs.delete(nodeId));
  }

  async terminate(nodeId: string): Promise<void> {
    const p = this.procs.get(nodeId);
    this.procs.delete(nodeId);
    if (p) await stopProcess(p.child);
  }

  launched(): string[] {
    return [...this.procs.keys()];
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((id) => this.terminate(id)));
  }
}

/**
 * Workers on the hosts of a cluster YAML, started and stopped over SSH (see remote-host.ts). Each
 * launch goes to the listed host that runs the fewest of this provider's workers; the worker gets
 * the token through a 0600 file written by the launch script, and `shoal down` finds it by its pid
 * file in the session folder.
 */
export class SshNodeProvider implements NodeProvider {
  readonly name: string;
  private readonly where = new Map<string, HostTarget>();
  /** Hosts in the order ties are broken: a host whose launch failed goes last. */
  private order: HostTarget[];

  constructor(
    private readonly head: { address: string; tokenFile: string },
    private readonly options: SshProviderOptions,
    private readonly worker: { resources: Resources; objectStoreBytes: number },
  ) {
    if (options.hosts.length === 0) throw new Error('the ssh node provider needs at least one host (provider.worker_ips)');
    this.name = `ssh: ${options.hosts.map((h) => h.host).join(', ')}`;
    this.order = [...options.hosts];
  }

  /** Name of a launched worker's pid and log files. */
  static processName(host: string, nodeId: string): string {
    return `worker@${host}@${nodeId}`;
  }

  async launch(nodeId: string): Promise<void> {
    const count = (h: HostTarget): number => [...this.where.values()].filter((x) => x === h).length;
    const host = this.order.reduce((best, h) => (count(h) < count(best) ? h : best));
    this.where.set(nodeId, host);
    const { CPU = 1, memory, ...custom } = this.worker.resources;
    const dir = this.options.runtime.sessionDir;
    const name = SshNodeProvider.processName(host.host, nodeId);
    try {
      await startRemote(host, this.options.runtime, 'worker', {
        headAddress: this.head.address, tokenFile: join(dir, `${name}.token`), host: host.host, nodeId,
        numCpus: CPU, memoryBytes: memory ?? this.options.workerMemoryBytes ?? 2 * 1024 ** 3, resources: custom,
        dir: join(dir, name), objectStoreBytes: this.worker.objectStoreBytes, watchParent: false,
      }, { name, secrets: { [`${name}.token`]: readFileSync(this.head.tokenFile, 'utf8').trim() } });
    } catch (err) {
      this.where.delete(nodeId);
      // Try the other hosts first next time (this one may be unreachable).
      this.order = [...this.order.filter((h) => h !== host), host];
      throw err;
    }
  }

  async terminate(nodeId: string): Promise<void> {
    const host = this.where.get(nodeId);
    this.where.delete(nodeId);
    if (host) await stopRemote(host, this.options.runtime, SshNodeProvider.processName(host.host, nodeId));
  }

  launched(): string[] {
    return [...this.where.keys()];
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.where.keys()].map((id) => this.terminate(id)));
  }
}

/** The provider `options.provider` names (local processes when absent). */
export function createNodeProvider(
  options: AutoscalerOptions, head: { address: string; tokenFile: string; dir: string; host: string },
): NodeProvider {
  const worker = { resources: options.workerResources ?? { CPU: 1 }, objectStoreBytes: options.workerObjectStoreBytes ?? 1024 ** 3 };
  return options.provider?.type === 'ssh' ? new SshNodeProvider(head, options.provider, worker) : new LocalProcessProvider(head, worker);
}

export class Autoscaler {
  readonly decisions: AutoscalerDecision[] = [];
  private readonly idleSince = new Map<string, number>();
  private readonly launching = new Set<string>();
  private timer?: NodeJS.Timeout;
  private readonly min: number;
  private readonly max: number;
  private readonly idleMs: number;
  private readonly template: Resources;
  private lastHold = '';

  constructor(private readonly state: HeadState, readonly provider: NodeProvider, options: AutoscalerOptions = {}) {
    this.min = options.minWorkers ?? 0;
    this.max = options.maxWorkers ?? 4;
    this.idleMs = (options.idleTimeoutS ?? 60) * 1000;
    this.template = options.workerResources ?? { CPU: 1 };
    if (!(this.min >= 0 && this.max >= this.min)) throw new Error(`autoscaler needs 0 <= minWorkers <= maxWorkers (got ${this.min}, ${this.max})`);
  }

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.reconcile(), intervalMs);
    this.timer.unref();
    void this.reconcile();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.provider.stopAll();
  }

  private decide(d: Omit<AutoscalerDecision, 'at'>): void {
    const decision = { at: Date.now(), ...d };
    this.decisions.push(decision);
    if (this.decisions.length > 100) this.decisions.shift();
    log.info({ autoscaler: decision }, `autoscaler: ${d.action}${d.nodeId ? ` ${d.nodeId}` : ''}: ${d.reason}`);
  }

  /** One look at demand and idleness; at most one launch per pass. */
  async reconcile(now = Date.now()): Promise<void> {
    const ours = this.provider.launched().filter((id) => !this.launching.has(id));
    const count = ours.length + this.launching.size;
    const demand = this.state.unmetDemand();
    const servable = demand.filter((d) => fits(this.template, d.resources));
    const unservable = demand.filter((d) => !fits(this.template, d.resources));
    if (unservable.length) {
      const why = `no worker of the autoscaler's shape ${JSON.stringify(this.template)} fits ${JSON.stringify(unservable[0]!.resources)} (${unservable[0]!.what})`;
      if (why !== this.lastHold) this.decide({ action: 'hold', reason: why });
      this.lastHold = why;
    }
    if (count < this.min || (servable.length && this.launching.size === 0 && count < this.max)) {
      const reason = count < this.min
        ? `below minWorkers (${count} < ${this.min})`
        : `${servable.reduce((s, d) => s + d.count, 0)} ${servable[0]!.what}(s) wait for ${JSON.stringify(servable[0]!.resources)}`;
      await this.launch(reason);
      return;
    }
    if (servable.length && count >= this.max) {
      const why = `demand waits but maxWorkers (${this.max}) are running`;
      if (why !== this.lastHold) this.decide({ action: 'hold', reason: why });
      this.lastHold = why;
    }
    // Idle workers beyond the minimum go.
    for (const id of ours) {
      if (this.state.nodeBusy(id) || !this.state.nodes.has(id)) {
        this.idleSince.delete(id);
        continue;
      }
      const since = this.idleSince.get(id) ?? now;
      this.idleSince.set(id, since);
      if (now - since >= this.idleMs && this.provider.launched().length > this.min) {
        this.idleSince.delete(id);
        this.decide({ action: 'terminate', nodeId: id, reason: `idle for ${Math.round((now - since) / 1000)} s (idleTimeoutS ${this.idleMs / 1000})` });
        await this.provider.terminate(id);
      }
    }
  }

  private async launch(reason: string): Promise<void> {
    const nodeId = newNodeId();
    this.launching.add(nodeId);
    this.decide({ action: 'launch', nodeId, reason });
    try {
      await this.provider.launch(nodeId);
    } catch (err) {
      this.decide({ action: 'hold', nodeId, reason: `launch failed: ${(err as Error).message}` });
    } finally {
      this.launching.delete(nodeId);
    }
  }
}
