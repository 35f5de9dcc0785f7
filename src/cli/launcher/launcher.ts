/**
 * `shoal up` / `shoal down` for a cluster YAML: the head on `provider.head_ip`, a worker on every
 * `provider.worker_ips` host (or, with `max_workers`, workers the head's autoscaler launches on those
 * hosts on demand), all over SSH (remote-host.ts). The head makes the token; `up` reads it back over
 * SSH and hands it to each worker inside the launch script on stdin, which writes it to a 0600 file.
 *
 * A worker host that cannot be reached or whose worker fails is reported by name while the others
 * start; the exit code says the cluster came up partially. What was started is found again by `down`
 * through the pid files in the session folder of every host, so `down` also stops workers the
 * autoscaler launched and is safe to run twice.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  HeadClient, HostUnreachableError, readRemoteFile, RemoteStartError, runScript, shellQuote, ShoalError, shoalHome, startRemote, stopRemote,
  type AutoscalerOptions, type HostTarget, type RemoteRuntime, type StoppedRemote,
} from '../../core/index.js';
import type { CliContext } from '../cli-context.js';
import { sleep } from '../process-control.js';
import type { ClusterConfig } from './cluster-config.js';

/** Exit code of `up`/`down` when some hosts failed and the others were handled. */
export const EXIT_PARTIAL = 2;
/** How long `up` waits for the started workers to join the head. */
const JOIN_TIMEOUT_MS = 60_000;

/** The head of a cluster YAML could not be started on its port: something listens there. */
export class HeadPortInUseError extends ShoalError {
  override readonly code = 'PORT_IN_USE';
  constructor(readonly host: string, readonly port: number, readonly detail: string) {
    super(`cannot start the head on ${host}: port ${port} is already in use there (another shoal head or another program); ` +
      `stop it or set head.port to another port in the cluster YAML (${detail})`);
  }
  override context() {
    return { host: this.host, port: this.port };
  }
}

/** `shoal up` found the cluster already running. */
export class ClusterUpError extends ShoalError {
  override readonly code = 'CLUSTER_UP';
}

/** What `up` keeps in $SHOAL_HOME/clusters/<name>/cluster.json for `down`, `status` and drivers. */
export interface LaunchRecord {
  clusterName: string;
  address: string;
  tokenFile: string;
  sessionDir: string;
  head: { host: string; pid: number };
  workers: Array<{ host: string; pid: number; nodeId: string }>;
}

export const clusterDir = (name: string): string => join(shoalHome(), 'clusters', name);
const recordFile = (name: string): string => join(clusterDir(name), 'cluster.json');

export function readLaunchRecord(name: string): LaunchRecord | undefined {
  const f = recordFile(name);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as LaunchRecord) : undefined;
}

/** The runtime on the hosts of `c`. */
export function runtimeOf(c: ClusterConfig): RemoteRuntime {
  return { installDir: c.installDir, nodePath: c.nodePath, sessionDir: c.sessionDir, env: c.env };
}

/** How to reach `host` from this machine (`knownHosts` kept in the cluster's local folder). */
export function targetOf(c: ClusterConfig, host: string, knownHostsFile = join(clusterDir(c.clusterName), 'known_hosts')): HostTarget {
  if (c.provider.type === 'local') return { kind: 'local', host };
  return { kind: 'ssh', host, user: c.auth!.user, port: c.auth!.port, privateKey: c.auth!.privateKey, knownHostsFile };
}

const headName = (c: ClusterConfig): string => `head@${c.provider.headIp}@0`;
const workerName = (host: string, id: string): string => `worker@${host}@${id}`;

interface HostOutcome {
  host: string;
  role: string;
  pid?: number;
  nodeId?: string;
  error?: string;
}

/** `shoal up`: resolves with the exit code (0, or EXIT_PARTIAL); throws when the head cannot start. */
export async function up(ctx: CliContext, c: ClusterConfig): Promise<number> {
  const out = ctx.io.stdout;
  const local = clusterDir(c.clusterName);
  mkdirSync(local, { recursive: true, mode: 0o700 });
  const previous = readLaunchRecord(c.clusterName);
  if (previous && (await headAnswers(previous))) {
    throw new ClusterUpError(`cluster ${c.clusterName} is already up (head at ${previous.address}); run \`shoal down ${c.file}\` first`);
  }
  const rt = runtimeOf(c);
  const headTarget = targetOf(c, c.provider.headIp);
  const { headIp } = c.provider;
  out(`Starting cluster ${c.clusterName}: head on ${headIp}:${c.head.port}, ` +
    `${c.autoscale ? `${c.autoscale.minWorkers}..${c.autoscale.maxWorkers} autoscaled workers` : `${c.provider.workerIps.length} worker host(s)`} (session folder ${c.sessionDir})\n`);

  const head = await startRemote(headTarget, rt, 'head', {
    dir: join(c.sessionDir, 'head'), host: headIp, port: c.head.port, metricsPort: 0, watchParent: false,
    autoscaler: autoscalerOptions(c),
  }, { name: headName(c), secrets: c.autoscale && c.provider.type === 'ssh' ? { ssh_key: readFileSync(c.auth!.privateKey, 'utf8') } : {} })
    .catch((err: unknown) => {
      if (err instanceof RemoteStartError && /EADDRINUSE|address already in use/i.test(err.detail)) {
        throw new HeadPortInUseError(headIp, c.head.port, err.detail);
      }
      throw err;
    });
  const address = String(head.info.address);
  const token = (await readRemoteFile(headTarget, String(head.info.tokenFile))).trim();
  const tokenFile = join(local, 'token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  chmodSync(tokenFile, 0o600);
  const record: LaunchRecord = { clusterName: c.clusterName, address, tokenFile, sessionDir: c.sessionDir, head: { host: headIp, pid: head.pid }, workers: [] };
  const save = (): void => writeFileSync(recordFile(c.clusterName), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  save();
  out(`  head     ${headIp.padEnd(16)} pid ${head.pid}, listening at ${address}\n`);

  // Workers: one per worker host (unless the autoscaler launches them), and one next to the head if head.cpus > 0.
  const plan: Array<{ host: string; id: string; cpus: number; memoryBytes: number; objectStoreBytes: number }> = [];
  if (c.head.cpus > 0) plan.push({ host: headIp, id: 'head', cpus: c.head.cpus, memoryBytes: c.head.memoryBytes, objectStoreBytes: c.head.objectStoreBytes });
  if (!c.autoscale) c.provider.workerIps.forEach((host, i) => plan.push({ host, id: `w${i}`, cpus: c.workers.cpus, memoryBytes: c.workers.memoryBytes, objectStoreBytes: c.workers.objectStoreBytes }));
  const outcomes = await Promise.all(plan.map(async (w): Promise<HostOutcome> => {
    const name = workerName(w.host, w.id);
    try {
      const started = await startRemote(targetOf(c, w.host), rt, 'worker', {
        headAddress: address, tokenFile: join(c.sessionDir, `${name}.token`), host: w.host, numCpus: w.cpus,
        memoryBytes: w.memoryBytes, objectStoreBytes: w.objectStoreBytes, resources: c.workers.resources,
        dir: join(c.sessionDir, name), watchParent: false,
      }, { name, secrets: { [`${name}.token`]: token } });
      const nodeId = String(started.info.nodeId);
      record.workers.push({ host: w.host, pid: started.pid, nodeId });
      save();
      return { host: w.host, role: 'worker', pid: started.pid, nodeId };
    } catch (err) {
      return { host: w.host, role: 'worker', error: err instanceof ShoalError ? err.message : String(err) };
    }
  }));

  const expected = outcomes.filter((o) => o.nodeId).map((o) => o.nodeId!);
  const want = expected.length + (c.autoscale?.minWorkers ?? 0);
  const joined = await waitForNodes({ address, token }, want, JOIN_TIMEOUT_MS);
  for (const o of outcomes) {
    if (o.error) out(`  worker   ${o.host.padEnd(16)} FAILED: ${o.error}\n`);
    else out(`  worker   ${o.host.padEnd(16)} pid ${o.pid}, node ${o.nodeId}${joined.ids.has(o.nodeId!) ? ' (joined)' : ' (NOT JOINED)'}\n`);
  }
  const failed = outcomes.filter((o) => o.error);
  const missing = expected.filter((id) => !joined.ids.has(id));
  out(`\n${joined.alive} node(s) alive on the head${c.autoscale ? ` (the autoscaler keeps ${c.autoscale.minWorkers}..${c.autoscale.maxWorkers} workers on ${c.provider.workerIps.join(', ')})` : ''}.\n` +
    `  Address:     ${address}\n  Token file:  ${tokenFile}\n` +
    `Connect:  SHOAL_ADDRESS=${address} SHOAL_TOKEN_FILE=${tokenFile} node driver.js\n` +
    `Status:   shoal status --address ${address} --token-file ${tokenFile}\n` +
    `Stop:     shoal down ${c.file}\n`);
  if (failed.length || missing.length || joined.alive < want) {
    ctx.io.stderr(`error: cluster ${c.clusterName} is only partly up: ` +
      [...failed.map((o) => `${o.host}: ${o.error}`), ...missing.map((id) => `node ${id} did not join within ${JOIN_TIMEOUT_MS / 1000} s`),
        ...(joined.alive < want && !missing.length && !failed.length ? [`${joined.alive} of ${want} nodes joined within ${JOIN_TIMEOUT_MS / 1000} s`] : [])].join('; ') + '\n');
    return EXIT_PARTIAL;
  }
  return 0;
}

function autoscalerOptions(c: ClusterConfig): AutoscalerOptions | undefined {
  if (!c.autoscale) return undefined;
  const remoteKnownHosts = join(c.sessionDir, 'known_hosts');
  const hosts: HostTarget[] = c.provider.workerIps.map((host) => (c.provider.type === 'local'
    ? { kind: 'local', host }
    : { kind: 'ssh', host, user: c.auth!.user, port: c.auth!.port, privateKey: join(c.sessionDir, 'ssh_key'), knownHostsFile: remoteKnownHosts }));
  return {
    minWorkers: c.autoscale.minWorkers, maxWorkers: c.autoscale.maxWorkers, idleTimeoutS: c.autoscale.idleTimeoutS,
    workerResources: { CPU: c.workers.cpus, ...c.workers.resources }, workerObjectStoreBytes: c.workers.objectStoreBytes,
    provider: { type: 'ssh', hosts, runtime: runtimeOf(c), workerMemoryBytes: c.workers.memoryBytes },
  };
}

async function headAnswers(r: LaunchRecord): Promise<boolean> {
  if (!existsSync(r.tokenFile)) return false;
  const client = new HeadClient({ address: r.address, token: readFileSync(r.tokenFile, 'utf8').trim() });
  try {
    await client.control('ping');
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

async function waitForNodes(target: { address: string; token: string }, want: number, timeoutMs: number): Promise<{ alive: number; ids: Set<string> }> {
  const client = new HeadClient(target);
  const deadline = Date.now() + timeoutMs;
  let last = { alive: 0, ids: new Set<string>() };
  try {
    for (;;) {
      try {
        const s = await client.control('status');
        const alive = s.nodes.filter((n) => n.alive);
        last = { alive: alive.length, ids: new Set(alive.map((n) => n.id)) };
        if (last.alive >= want) return last;
      } catch {
        /* the head may still be settling; keep asking until the deadline */
      }
      if (Date.now() > deadline) return last;
      await sleep(200);
    }
  } finally {
    client.close();
  }
}

/** `shoal down`: stops every shoal process of the cluster on its hosts; resolves with the exit code. */
export async function down(ctx: CliContext, c: ClusterConfig): Promise<number> {
  const rt = runtimeOf(c);
  const hosts = [...new Set([c.provider.headIp, ...c.provider.workerIps])];
  const report = (host: string, stopped: StoppedRemote[]): void => {
    for (const s of stopped) ctx.io.stdout(`  ${s.name.split('@')[0]!.padEnd(8)} ${host.padEnd(16)} pid ${s.pid}: ${s.outcome}\n`);
  };
  const failures: string[] = [];
  let heads: StoppedRemote[] = [];
  // The head first: it stops the workers its autoscaler launched, and launches no more.
  try {
    heads = await stopRemote(targetOf(c, c.provider.headIp), rt, `head@${c.provider.headIp}@*`);
    report(c.provider.headIp, heads);
  } catch (err) {
    failures.push((err as Error).message);
  }
  const results = await Promise.all(hosts.map(async (host) => {
    try {
      const stopped = await stopRemote(targetOf(c, host), rt, `worker@${host}@*`);
      // Secrets `up` left on the host: the workers' token files, the autoscaler's copy of the SSH key.
      await runScript(targetOf(c, host), `cd ${shellQuote(c.sessionDir)} 2>/dev/null && rm -f ssh_key worker@${host}@*.token || true`);
      return { host, stopped };
    } catch (err) {
      failures.push(err instanceof HostUnreachableError ? err.message : `${host}: ${(err as Error).message}`);
      return { host, stopped: [] };
    }
  }));
  for (const r of results) report(r.host, r.stopped);
  const n = [...heads, ...results.flatMap((r) => r.stopped)].filter((x) => x.outcome !== 'not-running').length;
  if (failures.length === 0) rmSync(clusterDir(c.clusterName), { recursive: true, force: true });
  ctx.io.stdout(n === 0 && failures.length === 0
    ? `Nothing of cluster ${c.clusterName} was running.\n`
    : `Stopped cluster ${c.clusterName}${failures.length ? ' partly' : ''}.\n`);
  if (failures.length) {
    ctx.io.stderr(`error: could not stop everything of cluster ${c.clusterName}: ${failures.join('; ')}\n`);
    return EXIT_PARTIAL;
  }
  return 0;
}

