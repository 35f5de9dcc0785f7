/**
 * `shoal start`: with `--head`, a head (and, unless `--num-cpus 0`, a worker) on this host as
 * detached background processes; with `--address`, a worker that joins a running head. What it
 * starts is recorded in $SHOAL_HOME/cluster.json for `shoal stop`, `shoal status` and
 * `init({ address: 'auto' })`. With `--block` it stays in the foreground and stops them on
 * SIGINT/SIGTERM.
 */
import { Command } from 'commander';
import { createServer } from 'node:net';
import { availableParallelism, freemem, networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidOptionError, shoalHome, type Resources } from '../../core/index.js';
import type { CliContext } from '../cli-context.js';
import { parseAddress, parseBytes, parseCount, parsePort, parseResources } from '../cli-options.js';
import { clusterRecordPath, readClusterRecord, removeClusterRecord, writeClusterRecord, type ClusterRecord, type RecordedProcess } from '../cluster-record.js';
import { ClusterRunningError, PortInUseError } from '../errors.js';
import { formatBytes } from '../format.js';
import { HeadClient } from '../../core/index.js';
import { pidAlive } from '../../core/index.js';
import { stopRecordedProcesses } from '../process-control.js';
import { spawnRuntime, type StartedProcess } from '../runtime-process.js';
import { resolveToken } from '../target.js';
import { DASHBOARD_EXTENSION } from '../../dashboard/index.js';
import { STORE_EXTENSION } from '../../store/index.js';
import { PIPELINES_EXTENSION } from '../../platform/index.js';

/** The head's gRPC port when `--port` is not given. */
export const DEFAULT_HEAD_PORT = 6380;
/** Share of free memory a worker advertises as its `memory` resource. */
const WORKER_MEMORY_SHARE = 0.7;
/** Share of free memory a worker's object store gets by default. */
const OBJECT_STORE_SHARE = 0.3;
const HEAD_WATCH_INTERVAL_MS = 1_000;
/**
 * What a head started here serves on its HTTP port: the store's REST API (/api/store/, cluster
 * token) and the dashboard (/). The store's comes first so that a later extension may take over
 * its prefix (the last mount of a prefix wins). The pipelines extension serves nothing: it holds
 * the pipeline schedules and triggers (src/platform/extension.ts).
 */
const HEAD_EXTENSIONS = [STORE_EXTENSION, DASHBOARD_EXTENSION, PIPELINES_EXTENSION];

interface StartFlags {
  head?: boolean;
  address?: string;
  host?: string;
  port?: number;
  numCpus?: number;
  resources?: Resources;
  memory?: number;
  objectStoreMemory?: number;
  tokenFile?: string;
  dir?: string;
  store?: string;
  block?: boolean;
  autoscaleMax?: number;
  autoscaleMin?: number;
  idleTimeout?: number;
  workerCpus?: number;
}

/** Options of one worker process, complete and validated. */
interface CompiledWorkerOptions {
  numCpus: number;
  memoryBytes: number;
  objectStoreBytes: number;
  resources: Resources;
}

export function startCommand(ctx: CliContext): Command {
  return new Command('start')
    .description('start a head (--head) or a worker that joins a cluster (--address) on this host, in the background')
    .option('--head', 'start a new cluster: a head and a worker using this host')
    .option('--address <host:port>', 'join the cluster whose head is at HOST:PORT with a worker', (v) => parseAddress('--address', v))
    .option('--host <host>', 'interface to bind (the head, or a joining worker\'s object server) (default: 127.0.0.1)')
    .option('--port <port>', `head port; 0 picks a free one (default: ${DEFAULT_HEAD_PORT})`, (v) => parsePort('--port', v))
    .option('--num-cpus <n>', 'CPUs of the worker; 0 starts no worker with --head (default: all cores)', (v) => parseCount('--num-cpus', v))
    .option('--resources <json>', 'custom resources of the worker, as JSON: \'{"GPU":1}\'', (v) => parseResources('--resources', v))
    .option('--memory <bytes>', 'memory the worker offers to tasks (default: 70% of free memory)', (v) => parseBytes('--memory', v))
    .option('--object-store-memory <bytes>', 'object store size of the worker (default: 30% of free memory)', (v) => parseBytes('--object-store-memory', v))
    .option('--token-file <file>', 'with --address: file holding the cluster token (default: SHOAL_TOKEN, SHOAL_TOKEN_FILE)')
    .option('--dir <dir>', 'folder for state and logs (default: $SHOAL_HOME/sessions/<time>)')
    .option('--store <file|url>', 'with --head: where the head keeps its state, a SQLite file or postgres://user@host:port/db?schema=name; a head started again with the same store and port takes its cluster back (default: <dir>/head.sqlite)', (v) => parseStore(v))
    .option('--block', 'stay in the foreground; stop what was started on Ctrl-C or SIGTERM')
    .option('--autoscale-max <n>', 'with --head: launch up to N more workers on this host when work waits (off by default)', (v) => parseCount('--autoscale-max', v))
    .option('--autoscale-min <n>', 'with --autoscale-max: workers kept even when idle (default: 0)', (v) => parseCount('--autoscale-min', v))
    .option('--idle-timeout <s>', 'with --autoscale-max: remove a launched worker idle this many seconds (default: 60)', (v) => parseCount('--idle-timeout', v))
    .option('--worker-cpus <n>', 'with --autoscale-max: CPUs of each launched worker (default: 1)', (v) => parseCount('--worker-cpus', v))
    .addHelpText('after', `
Examples:
  $ shoal start --head                      # head on 127.0.0.1:${DEFAULT_HEAD_PORT} and a worker with all cores
  $ shoal start --head --port 0 --num-cpus 4 --resources '{"GPU":1}'
  $ shoal start --address 10.0.0.5:${DEFAULT_HEAD_PORT} --token-file ./token   # join from another host`)
    .action(async (flags: StartFlags) => {
      if (flags.head && flags.address) throw new InvalidOptionError('shoal start takes either --head (start a cluster) or --address HOST:PORT (join one), not both');
      if (flags.head) await startHead(ctx, flags);
      else if (flags.address) await startJoiningWorker(ctx, flags, flags.address);
      else throw new InvalidOptionError('shoal start needs --head (start a new cluster here) or --address HOST:PORT (join a running one)');
    });
}

function compileWorkerOptions(flags: StartFlags): CompiledWorkerOptions {
  return {
    numCpus: flags.numCpus ?? availableParallelism(),
    memoryBytes: flags.memory ?? Math.round(freemem() * WORKER_MEMORY_SHARE),
    objectStoreBytes: flags.objectStoreMemory ?? Math.round(freemem() * OBJECT_STORE_SHARE),
    resources: flags.resources ?? {},
  };
}

const isLoopback = (host: string): boolean => host === 'localhost' || host.startsWith('127.') || host === '::1' || host === '[::1]';
const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::' || host === '[::]';
const hostOf = (address: string): string => address.slice(0, address.lastIndexOf(':'));

/** An address other hosts can reach this one at, for a server bound to every interface. */
function externalIp(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Fails with PortInUseError when something listens on host:port already. */
function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' ? reject(new PortInUseError(host, port, { cause: err })) : resolvePromise(),
    );
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolvePromise()));
  });
}

/** Refuses to start over live processes of an earlier `shoal start`; forgets a dead record. */
function checkNoRunningCluster(ctx: CliContext, sameAddress?: string): ClusterRecord | undefined {
  const record = readClusterRecord();
  if (!record) return undefined;
  const alive = record.processes.filter((p) => pidAlive(p.pid));
  if (alive.length === 0) {
    ctx.io.stderr(`note: forgetting ${clusterRecordPath()}: none of its processes (${record.pids.join(', ')}) runs any more\n`);
    removeClusterRecord();
    return undefined;
  }
  if (sameAddress !== undefined && record.address === sameAddress) return record;
  const what = alive.map((p) => `${p.role} pid ${p.pid}`).join(', ');
  throw new ClusterRunningError(
    `a cluster started by \`shoal start\` is already running on this host at ${record.address} (${what}); ` +
      'run `shoal stop` first, or set SHOAL_HOME to another folder',
  );
}

async function startHead(ctx: CliContext, flags: StartFlags): Promise<void> {
  const host = flags.host ?? '127.0.0.1';
  const port = flags.port ?? DEFAULT_HEAD_PORT;
  const worker = compileWorkerOptions(flags);
  const existing = readClusterRecord();
  if (existing && crashedHead(existing)) {
    await restartCrashedHead(ctx, existing, flags);
    return;
  }
  checkNoRunningCluster(ctx);
  if (port !== 0) await assertPortFree(host, port);
  const dir = resolve(flags.dir ?? join(shoalHome(), 'sessions', sessionName()));

  const autoscaler = flags.autoscaleMax !== undefined
    ? {
        maxWorkers: flags.autoscaleMax, minWorkers: flags.autoscaleMin ?? 0, idleTimeoutS: flags.idleTimeout ?? 60,
        workerResources: { CPU: flags.workerCpus ?? 1 }, workerObjectStoreBytes: worker.objectStoreBytes,
      }
    : undefined;
  if (autoscaler && autoscaler.minWorkers > autoscaler.maxWorkers) {
    throw new InvalidOptionError(`--autoscale-min (${autoscaler.minWorkers}) must not exceed --autoscale-max (${autoscaler.maxWorkers})`);
  }
  const head = await spawnRuntime('head', { dir, host, port, watchParent: false, autoscaler, store: flags.store, extensions: HEAD_EXTENSIONS }, {
    logFile: join(dir, 'logs', 'head.log'),
    bind: { host, port },
  });
  const headPort = Number(head.info.port);
  const address = isWildcard(host) ? `${externalIp()}:${headPort}` : String(head.info.address);
  const tokenFile = String(head.info.tokenFile);
  const started: StartedProcess[] = [head];
  const store = flags.store;
  let record = writeClusterRecord({ address, tokenFile, dir, headHost: host, store, processes: started.map(recorded) });

  if (worker.numCpus !== 0) {
    try {
      started.push(await spawnRuntime('worker', workerConfig(address, tokenFile, join(dir, 'worker'), host, worker), {
        logFile: join(dir, 'logs', 'worker-0.log'),
      }));
    } catch (err) {
      await stopRecordedProcesses(started.map(recorded));
      removeClusterRecord();
      throw err;
    }
    record = writeClusterRecord({ address, tokenFile, dir, headHost: host, store, processes: started.map(recorded) });
  }

  const workerLine = started[1]
    ? ` and a worker with ${worker.numCpus} CPU${worker.numCpus === 1 ? '' : 's'}${describeResources(worker.resources)}, ${formatBytes(worker.objectStoreBytes)} object store (pid ${started[1].pid})`
    : ' (no worker: --num-cpus 0)';
  ctx.io.stdout(
    `Started a shoal head at ${address} (pid ${head.pid})${workerLine}.\n\n` +
      `  Address:     ${address}\n` +
      `  Dashboard:   ${dashboardOf(head.info, host)}   (log in with the token: shoal dashboard)\n` +
      `  Token file:  ${tokenFile}\n` +
      `  Logs:        ${join(dir, 'logs')}\n` +
      `  Recorded in: ${clusterRecordPath()}\n\n` +
      'Connect from this host:\n' +
      "  in a driver script:   await init({ address: 'auto' })\n" +
      '  from the shell:       shoal status    |    shoal submit -- node job.js\n' +
      'Connect from anywhere (other tools, other shells):\n' +
      `  SHOAL_ADDRESS=${address} SHOAL_TOKEN_FILE=${tokenFile} node driver.js\n` +
      'Add a worker on another host (copy the token file there first):\n' +
      `  shoal start --address ${address} --token-file ./token\n` +
      (flags.block ? '\nRunning in the foreground: Ctrl-C stops the cluster.\n' : 'Stop everything with: shoal stop\n'),
  );
  if (flags.block) await blockUntilSignal(ctx, record, head.pid);
}

/** The dashboard's address a head announced; on a wildcard bind, at this host's external address. */
export function dashboardOf(info: Record<string, unknown>, host: string): string {
  const url = (info.httpMounts as Record<string, string> | undefined)?.dashboard;
  if (!url) return '(off)';
  return isWildcard(host) ? url.replace(/\/\/[^/]+:/, `//${externalIp()}:`) : url;
}

/** A recorded cluster whose head died while some of its workers live on. */
function crashedHead(record: ClusterRecord): boolean {
  const heads = record.processes.filter((p) => p.role === 'head');
  return heads.length > 0 && heads.every((p) => !pidAlive(p.pid)) && record.processes.some((p) => p.role === 'worker' && pidAlive(p.pid));
}

/**
 * `shoal start --head` over a cluster whose head crashed: the head is started again as it was (same
 * address, folder and store), and takes its cluster back; the live workers reconnect to it.
 */
async function restartCrashedHead(ctx: CliContext, record: ClusterRecord, flags: StartFlags): Promise<void> {
  const port = Number(record.address.slice(record.address.lastIndexOf(':') + 1));
  const host = record.headHost ?? hostOf(record.address);
  const store = record.store ?? flags.store;
  const dead = record.processes.filter((p) => p.role === 'head');
  const live = record.processes.filter((p) => p.role === 'worker' && pidAlive(p.pid));
  ctx.io.stderr(`note: the head of the cluster at ${record.address} (pid ${dead.map((p) => p.pid).join(', ')}) is not running and its workers are; starting it again\n`);
  const head = await spawnRuntime('head', { dir: record.dir, host, port, watchParent: false, store, extensions: HEAD_EXTENSIONS }, {
    logFile: join(record.dir, 'logs', 'head.log'),
    bind: { host, port },
  });
  writeClusterRecord({ ...record, processes: [recorded(head), ...live] });
  ctx.io.stdout(
    `Restarted the head of the cluster at ${record.address} (pid ${head.pid}) over its state in ${record.dir}` +
      `${store ? ` (store ${store})` : ''}; its workers (pid ${live.map((p) => p.pid).join(', ')}) reconnect to it.\n` +
      `  Token file:  ${String(head.info.tokenFile)}\n  Logs:        ${join(record.dir, 'logs')}\n` +
      (flags.port !== undefined || flags.host !== undefined || flags.numCpus !== undefined ? 'The other flags of this start were not used: the cluster keeps its own address and workers.\n' : '') +
      'Stop everything with: shoal stop\n',
  );
}

async function startJoiningWorker(ctx: CliContext, flags: StartFlags, address: string): Promise<void> {
  const worker = compileWorkerOptions(flags);
  const existing = checkNoRunningCluster(ctx, address);
  const tok = resolveToken(flags, process.env, existing?.tokenFile, address);
  // Check address and token now: a worker that cannot join would only say so in its log.
  const client = new HeadClient({ address, token: tok.token, tokenSource: tok.tokenSource });
  try {
    await client.control('ping');
  } finally {
    client.close();
  }
  const headHost = hostOf(address);
  const host = flags.host ?? (isLoopback(headHost) ? '127.0.0.1' : '0.0.0.0');
  const base = resolve(flags.dir ?? existing?.dir ?? join(shoalHome(), 'sessions', sessionName()));
  const name = `worker-${Date.now().toString(36)}`;
  const config = workerConfig(address, tok.tokenFile, join(base, name), host, worker);
  const proc = await spawnRuntime('worker', config, {
    logFile: join(base, 'logs', `${name}.log`),
    // Pass an env token on by env, not argv (argv is visible to every user in `ps`).
    env: tok.tokenFile ? undefined : { SHOAL_TOKEN: tok.token },
  });
  const current = readClusterRecord();
  const processes = [...(current?.address === address ? current.processes : []), recorded(proc)];
  writeClusterRecord({ address, tokenFile: current?.tokenFile ?? tok.tokenFile, dir: current?.dir ?? base, processes });
  ctx.io.stdout(
    `Started a worker (pid ${proc.pid}, node ${String(proc.info.nodeId)}) with ${worker.numCpus} CPU${worker.numCpus === 1 ? '' : 's'}` +
      `${describeResources(worker.resources)} that joined the cluster at ${address}.\n` +
      `  Log: ${proc.logFile}\n` +
      `Recorded in ${clusterRecordPath()}; \`shoal stop\` stops it. \`shoal status --address ${address}\` shows the cluster.\n`,
  );
  if (flags.block) await blockUntilSignal(ctx, { address, dir: base, pids: [proc.pid], processes: [recorded(proc)] }, proc.pid);
}

function workerConfig(headAddress: string, tokenFile: string | undefined, dir: string, host: string, w: CompiledWorkerOptions): Record<string, unknown> {
  return {
    headAddress, tokenFile, host, advertiseHost: isWildcard(host) ? externalIp() : undefined,
    numCpus: w.numCpus, memoryBytes: w.memoryBytes, objectStoreBytes: w.objectStoreBytes, resources: w.resources,
    dir, watchParent: false,
  };
}

const recorded = (p: StartedProcess): RecordedProcess => ({ pid: p.pid, role: p.role, logFile: p.logFile, startedAt: Date.now() });

function describeResources(r: Resources): string {
  const parts = Object.entries(r).map(([k, v]) => `${k}=${v}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

function sessionName(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
}

/** `--block`: waits for SIGINT/SIGTERM (or the watched process to die), then stops what was started. */
async function blockUntilSignal(ctx: CliContext, record: ClusterRecord, watchPid: number): Promise<void> {
  const reason = await new Promise<string>((resolvePromise) => {
    const done = (why: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      clearInterval(timer);
      resolvePromise(why);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const timer = setInterval(() => {
      if (!pidAlive(watchPid)) done(`pid ${watchPid} exited`);
    }, HEAD_WATCH_INTERVAL_MS);
  });
  ctx.io.stderr(`${reason}: stopping ${record.processes.map((p) => `${p.role} pid ${p.pid}`).join(', ')}\n`);
  await stopRecordedProcesses(record.processes);
  const current = readClusterRecord();
  const mine = new Set(record.pids);
  const rest = current?.processes.filter((p) => !mine.has(p.pid) && pidAlive(p.pid)) ?? [];
  if (current && rest.length) writeClusterRecord({ ...current, processes: rest });
  else removeClusterRecord();
  if (reason.startsWith('pid')) ctx.exitCode = 1;
}

/** `--store`: a PostgreSQL URL as given, or a SQLite file path made absolute. */
function parseStore(value: string): string {
  if (/^postgres(ql)?:\/\//.test(value)) {
    if (!URL.canParse(value)) throw new InvalidOptionError(`--store ${value} is not a valid URL (postgres://user@host:port/database?schema=name)`);
    return value;
  }
  if (value.trim() === '') throw new InvalidOptionError('--store needs a SQLite file path or a postgres:// URL');
  return resolve(value);
}
