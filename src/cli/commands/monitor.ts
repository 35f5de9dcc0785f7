/**
 * `shoal monitor status|report`: monitoring from the platform store (no cluster needed) — each
 * monitor's newest result, recent alerts and retraining decisions with their reasons; a report over
 * a time range as one HTML page with plots.
 */
import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { InvalidOptionError } from '../../core/index.js';
import { buildMonitorReport, monitorReportHtml, monitorStatus, type MonitorStatusView } from '../../platform/index.js';
import type { CliContext } from '../cli-context.js';
import { formatTime, table } from '../format.js';
import { STORE_FLAG, withStore } from './runs.js';

/** `--from` / `--to`: an ISO date or date-time (UTC unless it says otherwise). */
function parseTime(flag: string, text: string): number {
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(t)) throw new InvalidOptionError(`${flag} must be a date (2026-12-01) or date-time (2026-12-01T06:00:00Z); got ${JSON.stringify(text)}`, { option: flag });
  return t;
}

const clip = (s: string, n = 110): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function renderMonitorStatus(s: MonitorStatusView): string {
  const out: string[] = [];
  out.push('MONITORS');
  out.push(s.monitors.length
    ? table([['MONITOR', 'KIND', 'STATUS', 'AT', 'SUMMARY'], ...s.monitors.map((m) => [m.monitor, m.kind, m.status, formatTime(m.at), clip(m.summary)])])
    : '  none recorded yet');
  out.push('', 'RETRAINING DECISIONS (newest last)');
  out.push(s.decisions.length
    ? table([['AT', 'MODEL', 'DECISION', 'POLICY', 'CANDIDATE', 'CHAMPION', 'REASON'], ...s.decisions.map((d) => [
      formatTime(d.at), d.model, d.decision, d.policy ?? '-', d.candidateVersion === null ? '-' : `v${d.candidateVersion}`,
      d.championVersion === null ? '-' : `v${d.championVersion}`, clip(d.reason, 140),
    ])])
    : '  none');
  out.push('', 'ALERTS (newest last)');
  out.push(s.alerts.length
    ? table([['AT', 'SOURCE', 'KIND', 'SEVERITY', 'MESSAGE', 'NOTIFIED'], ...s.alerts.map((a) => [formatTime(a.at), a.source, a.kind, a.severity, clip(a.message), a.notified ?? '-'])])
    : '  none');
  return `${out.join('\n')}\n`;
}

export function monitorCommand(ctx: CliContext): Command {
  const cmd = new Command('monitor').description('monitoring: monitors, alerts and retraining decisions in the platform store');
  cmd
    .command('status')
    .description("each monitor's newest result, recent retraining decisions (with reasons) and alerts")
    .option(...STORE_FLAG)
    .option('--model <name>', 'only this model’s retraining decisions')
    .option('--limit <n>', 'decisions and alerts shown', '10')
    .option('--json', 'print JSON')
    .action(async (flags: { store?: string; model?: string; limit: string; json?: boolean }) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new InvalidOptionError(`--limit must be a positive integer; got ${JSON.stringify(flags.limit)}`, { option: '--limit' });
      const s = await withStore(flags, (store) => monitorStatus(store, { limit, model: flags.model }));
      ctx.io.stdout(flags.json ? `${JSON.stringify(s, null, 2)}\n` : renderMonitorStatus(s));
    });
  cmd
    .command('report')
    .description('an HTML report (plots, decisions, alerts) of what was recorded between --from and --to')
    .requiredOption('--from <date>', 'start (2026-12-01, or an ISO date-time; UTC)')
    .option('--to <date>', 'end, exclusive (default: now)')
    .option('--out <file>', 'write the HTML here', 'monitoring-report.html')
    .option(...STORE_FLAG)
    .action(async (flags: { from: string; to?: string; out: string; store?: string }) => {
      const from = parseTime('--from', flags.from);
      const to = flags.to === undefined ? Date.now() : parseTime('--to', flags.to);
      if (to <= from) throw new InvalidOptionError(`--to (${new Date(to).toISOString()}) must be after --from (${new Date(from).toISOString()})`, { option: '--to' });
      const report = await withStore(flags, (store) => buildMonitorReport(store, { from, to }));
      await writeFile(flags.out, monitorReportHtml(report));
      ctx.io.stdout(`wrote ${flags.out}: ${report.results.length} monitor results, ${report.alerts.length} alerts, ${report.decisions.length} retraining decisions\n`);
    });
  return cmd;
}
