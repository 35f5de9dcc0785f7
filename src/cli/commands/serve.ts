/**
 * `shoal serve deploy|status|rollout|rollback|shutdown|keys create`: a running serve instance (`shoal
 * serve start`, serve-start.ts, runs one), through its
 * ingress's admin endpoints (src/serve/admin-endpoints.ts; the cluster token). Which instance:
 * `--url`, else SHOAL_SERVE_URL, else http://127.0.0.1:8000. Token: as for every command
 * (`--token-file`, SHOAL_TOKEN, SHOAL_TOKEN_FILE, the recorded cluster's).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { invalidOption, ShoalError } from '../../core/index.js';
import { createServeKey, serveKeysFile, type ServeStatus } from '../../serve/index.js';
import type { CliContext } from '../cli-context.js';
import { readClusterRecord } from '../cluster-record.js';
import { table } from '../format.js';
import { resolveToken } from '../target.js';
import { addServeStart } from './serve-start.js';

/** The serve instance did not answer, or answered with an error. */
export class ServeAdminError extends ShoalError {
  override readonly code = 'SERVE_ADMIN_FAILED';
}

interface Flags {
  url?: string;
  tokenFile?: string;
}

const urlOf = (flags: Flags): string => (flags.url ?? process.env.SHOAL_SERVE_URL ?? 'http://127.0.0.1:8000').replace(/\/+$/, '');

/** Calls an admin endpoint; resolves to its JSON answer, or throws what the instance said. */
export async function admin<T>(flags: Flags, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const url = urlOf(flags);
  const { token } = resolveToken(flags, process.env, readClusterRecord()?.tokenFile, url);
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    const why = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new ServeAdminError(`no serve instance answers at ${url} (${why}): start one (\`npm start -- --serve\`, or startServe() in code) or pass --url`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new ServeAdminError(`${method} ${url}${path}: HTTP ${res.status}: ${(json as { error?: string } | undefined)?.error ?? text.slice(0, 200)}`);
  return json as T;
}

const ms = (v: number): string => (v ? v.toFixed(1) : '-');

export function renderServeStatus(s: ServeStatus): string {
  const out: string[] = [];
  if (!s.deployments.length) out.push('No deployments.');
  else {
    const rows = [['DEPLOYMENT', 'ROUTE', 'VERSION', 'REPLICAS', 'QUEUED', 'REQUESTS', 'ERRORS', 'RPS', 'P50 MS', 'P99 MS', 'CANARY', 'SHADOW']];
    for (const d of s.deployments) {
      rows.push([
        d.name, d.route, d.version, String(d.replicas.filter((r) => r.state === 'running').length), String(d.queued), String(d.requests), String(d.errors),
        d.rps.toFixed(1), ms(d.p50Ms), ms(d.p99Ms), d.canary ? `${d.canary.version} at ${d.canary.weight}%` : '-', d.shadow ? `${d.shadow.version} (${d.shadow.answers} answers)` : '-',
      ]);
    }
    out.push('Deployments:', table(rows), '', 'Replicas:');
    const reps = [['DEPLOYMENT', 'REPLICA', 'STATE', 'ONGOING', 'ACTOR']];
    for (const d of s.deployments) for (const r of d.replicas) reps.push([d.name, r.id, r.state, String(r.ongoing), r.actorId]);
    out.push(table(reps));
  }
  if (s.decisions.length) {
    out.push('', 'Autoscaler decisions (latest last):');
    out.push(table([['TIME', 'DEPLOYMENT', 'FROM', 'TO', 'REASON'], ...s.decisions.slice(-10).map((x) => [new Date(x.timeMs).toISOString().slice(11, 19), x.deployment, String(x.from), String(x.to), x.reason])]));
  }
  return `${out.join('\n')}\n`;
}

interface DeployItem {
  module: string;
  export?: string | undefined;
  routePrefix?: string | undefined;
}

/**
 * The applications a `deploy` target names: a module (its `app` export, or `--export`), or a YAML
 * config `applications: [{ module, export?, routePrefix? }]` whose module paths are relative to it.
 */
export function deployItems(target: string, flags: { export?: string; route?: string }): DeployItem[] {
  const path = resolve(target);
  if (!/\.ya?ml$/i.test(path)) return [{ module: path, export: flags.export, routePrefix: flags.route }];
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw invalidOption('config', `${path} is not readable YAML: ${(err as Error).message}`);
  }
  const apps = (doc as { applications?: unknown } | null)?.applications;
  if (!Array.isArray(apps) || apps.length === 0) throw invalidOption('config', `${path} must have a non-empty list \`applications\` of { module, export?, routePrefix? }`);
  return apps.map((a: unknown, i) => {
    const o = (typeof a === 'object' && a !== null ? a : {}) as Record<string, unknown>;
    const unknown = Object.keys(o).filter((k) => !['module', 'export', 'routePrefix'].includes(k));
    if (unknown.length) throw invalidOption('config', `${path}: applications[${i}] has unknown keys ${unknown.join(', ')} (allowed: module, export, routePrefix)`);
    if (typeof o.module !== 'string' || !o.module) throw invalidOption('config', `${path}: applications[${i}].module must be a module path`);
    for (const k of ['export', 'routePrefix'] as const) {
      if (o[k] !== undefined && typeof o[k] !== 'string') throw invalidOption('config', `${path}: applications[${i}].${k} must be a string`);
    }
    return { module: resolve(dirname(path), o.module), export: o.export as string | undefined, routePrefix: o.routePrefix as string | undefined };
  });
}

export function serveCommand(ctx: CliContext): Command {
  const cmd = new Command('serve').description('manage a running serve instance (deployments behind the HTTP ingress)');
  addServeStart(cmd, ctx);
  const target = (c: Command): Command => c
    .option('--url <url>', 'the serve instance (default: SHOAL_SERVE_URL, else http://127.0.0.1:8000)')
    .option('--token-file <file>', 'file holding the cluster token (default: SHOAL_TOKEN, SHOAL_TOKEN_FILE, the recorded one)');
  target(cmd.command('deploy <module-or-config>').description('deploy (or hot-swap) the app a module exports, or those a YAML config lists, to the running instance'))
    .option('--export <name>', "the module's export holding the app (default: app, else the default export)")
    .option('--route <prefix>', 'route prefix (default: /<deployment name>)')
    .action(async (targetPath: string, flags: Flags & { export?: string; route?: string }) => {
      for (const item of deployItems(targetPath, flags)) {
        const r = await admin<{ name: string; version: string; route: string }>(flags, 'POST', '/-/deploy', item);
        ctx.io.stdout(`${r.name}: version ${r.version} serves ${r.route}\n`);
      }
    });
  target(cmd.command('status').description('deployments, replicas, traffic, latencies, rollouts and autoscaler decisions'))
    .option('--json', 'print the raw status as JSON')
    .action(async (flags: Flags & { json?: boolean }) => {
      const s = await admin<ServeStatus>(flags, 'GET', '/-/status');
      ctx.io.stdout(flags.json ? `${JSON.stringify(s, null, 2)}\n` : renderServeStatus(s));
    });
  target(cmd.command('rollout <name>').description("set the running canary's share of traffic (sticky by user)"))
    .requiredOption('--weight <percent>', 'share of request keys the canary takes, 0..100 (100 promotes it)')
    .option('--canary <version>', 'the canary version this is meant for (refused when another one runs)')
    .action(async (name: string, flags: Flags & { weight: string; canary?: string }) => {
      const weight = Number(flags.weight);
      if (!/^\d+(\.\d+)?$/.test(flags.weight) || weight > 100) throw invalidOption('--weight', `must be a number from 0 to 100 (got ${flags.weight})`);
      const s = await admin<ServeStatus>(flags, 'POST', '/-/rollout', { name, weight, ...(flags.canary ? { canary: flags.canary } : {}) });
      const d = s.deployments.find((x) => x.name === name);
      ctx.io.stdout(d?.canary ? `${name}: canary ${d.canary.version} takes ${d.canary.weight}% (stable ${d.version})\n` : `${name}: ${d?.version ?? '?'} takes all traffic\n`);
    });
  target(cmd.command('rollback <name>').description('drop the canary, else return to the previous version'))
    .action(async (name: string, flags: Flags) => {
      const s = await admin<ServeStatus>(flags, 'POST', '/-/rollback', { name });
      ctx.io.stdout(`${name}: version ${s.deployments.find((x) => x.name === name)?.version ?? '?'} takes all traffic\n`);
    });
  target(cmd.command('shutdown').description('stop the ingress and every replica (in-flight requests finish)'))
    .action(async (flags: Flags) => {
      await admin(flags, 'POST', '/-/shutdown');
      ctx.io.stdout(`the serve instance at ${urlOf(flags)} is stopping\n`);
    });
  const keys = cmd.command('keys').description('serving keys (the inference endpoints take them; never the cluster token)');
  target(keys.command('create').description('create a serving key (shown once; only its hash is stored) and tell a running instance'))
    .option('--name <name>', 'a label kept with the hash')
    .option('--keys-file <file>', 'the keys file (default: $SHOAL_HOME/serve-keys.json)')
    .action(async (flags: Flags & { name?: string; keysFile?: string }) => {
      const file = flags.keysFile ?? serveKeysFile();
      const key = createServeKey({ file, ...(flags.name ? { name: flags.name } : {}) });
      ctx.io.stdout(`${key}\n`);
      try {
        const r = await admin<{ keys: number }>(flags, 'POST', '/-/keys/reload');
        ctx.io.stderr(`stored in ${file}; the instance at ${urlOf(flags)} accepts it now (${r.keys} keys)\n`);
      } catch (err) {
        ctx.io.stderr(`stored in ${file}; no running instance took it (${(err as Error).message}): instances read the file when they start\n`);
      }
    });
  return cmd;
}
