/** `shoal status`: nodes with their resources and usage, tasks, actors and jobs of a cluster. */
import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import type { StatusReply } from '../cluster-types.js';
import { formatAmount, formatBytes, formatDuration, formatTime, table } from '../format.js';
import { replicationSlotsSection } from '../replication-slots.js';
import { withHead } from '../with-head.js';

interface StatusFlags {
  address?: string;
  tokenFile?: string;
  json?: boolean;
  databaseUrl?: string;
}

export function statusCommand(ctx: CliContext): Command {
  return new Command('status')
    .description('show the nodes, resources, usage, actors and jobs of a cluster')
    .option('--address <host:port>', 'head to ask (default: SHOAL_ADDRESS, else the cluster `shoal start` recorded)')
    .option('--token-file <file>', 'file holding the cluster token (default: SHOAL_TOKEN, SHOAL_TOKEN_FILE, the recorded one)')
    .option('--json', 'print the raw status as JSON')
    .option('--database-url <url>', 'also list the logical replication slots of this PostgreSQL warehouse, flagging orphaned ones (default: DATABASE_URL)')
    .action(async (flags: StatusFlags) => {
      const status = await withHead(flags, (head) => head.control('status'));
      ctx.io.stdout(flags.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
      const url = flags.databaseUrl ?? process.env.DATABASE_URL;
      if (url && !flags.json) ctx.io.stdout(`\n${await replicationSlotsSection(url)}\n`);
    });
}

export function renderStatus(s: StatusReply): string {
  const out: string[] = [];
  const alive = s.nodes.filter((n) => n.alive);
  const head = s.head;
  out.push(`Cluster at ${head?.address ?? '?'}${head ? ` (shoal ${head.version}, head on ${head.hostname})` : ''}`);
  if (head?.httpMounts?.dashboard) out.push(`Dashboard: ${head.httpMounts.dashboard}`);
  if (head?.httpMounts?.store) out.push(`Store API: ${head.httpMounts.store} (Authorization: Bearer <token>)`);

  out.push('', `Nodes: ${alive.length} alive${s.nodes.length > alive.length ? `, ${s.nodes.length - alive.length} dead` : ''}`);
  if (s.nodes.length) {
    const rows = [['NODE', 'ADDRESS', 'STATE', 'CPU (avail/total)', 'MEMORY (avail/total)', 'CUSTOM', 'OBJECT STORE', 'RUNNING', 'QUEUED', 'ACTORS', 'UPTIME']];
    for (const n of s.nodes) {
      const custom = Object.keys(n.total)
        .filter((k) => k !== 'CPU' && k !== 'memory')
        .map((k) => `${k} ${formatAmount(k, n.available[k] ?? 0)}/${formatAmount(k, n.total[k])}`)
        .join(', ');
      rows.push([
        n.id, n.address, n.alive ? 'alive' : 'dead',
        `${formatAmount('CPU', n.available.CPU ?? 0)}/${formatAmount('CPU', n.total.CPU ?? 0)}`,
        `${formatAmount('memory', n.available.memory ?? 0)}/${formatAmount('memory', n.total.memory ?? 0)}`,
        custom || '-',
        n.usage ? `${formatBytes(n.usage.objectStoreBytes)} (${n.usage.objects} obj${n.usage.spilledBytes ? `, ${formatBytes(n.usage.spilledBytes)} spilled` : ''})` : '-',
        String(n.usage?.runningTasks ?? n.inflightTasks), String(n.usage?.queuedTasks ?? 0), String(n.usage?.actors ?? 0),
        formatDuration(n.uptimeS * 1000),
      ]);
    }
    out.push(table(rows));
  }

  const totals = new Map<string, { total: number; available: number }>();
  for (const n of alive) {
    for (const [k, v] of Object.entries(n.total)) {
      const t = totals.get(k) ?? { total: 0, available: 0 };
      t.total += v;
      t.available += n.available[k] ?? 0;
      totals.set(k, t);
    }
  }
  if (totals.size) {
    out.push('', 'Resources (alive nodes):');
    out.push(table([['RESOURCE', 'AVAILABLE', 'TOTAL'], ...[...totals].map(([k, t]) => [k, formatAmount(k, t.available), formatAmount(k, t.total)])]));
  }

  out.push('', `Tasks: ${s.tasks.running} running, ${s.tasks.pending} pending`);

  out.push('', `Actors: ${s.actors.length}`);
  if (s.actors.length) {
    out.push(table([['ACTOR', 'NAME', 'CLASS', 'STATE', 'NODE', 'RESTARTS'], ...s.actors.map((a) => [a.id, a.name || '-', a.className ?? '-', a.state, a.nodeId ?? '-', String(a.restarts ?? 0)])]));
  }

  if (s.autoscaler) {
    const a = s.autoscaler;
    out.push('', `Autoscaler (${a.provider}, ${a.options.minWorkers ?? 0}..${a.options.maxWorkers ?? '?'} workers, idle timeout ${a.options.idleTimeoutS ?? 60} s): last decisions`);
    if (a.decisions.length === 0) out.push('  none yet');
    for (const d of a.decisions.slice(-10)) out.push(`  ${new Date(d.at).toISOString().slice(11, 19)}  ${d.action.padEnd(9)} ${d.nodeId ?? ''}  ${d.reason}`);
  }

  out.push('', `Jobs: ${s.jobs.length}`);
  if (s.jobs.length) {
    out.push(table([['JOB', 'STATUS', 'ENTRYPOINT', 'START'], ...s.jobs.map((j) => [j.id, j.status, j.entrypoint, formatTime(j.startedAt ?? j.submittedAt)])]));
  }
  return `${out.join('\n')}\n`;
}
