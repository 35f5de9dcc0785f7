/** `shoal lineage <uri>`: the chain behind a model version or run — data, code, params, parent runs, deployments. */
import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { formatTime } from '../format.js';
import { STORE_FLAG, withStore } from './runs.js';

export function lineageCommand(ctx: CliContext): Command {
  return new Command('lineage')
    .description('print the lineage of models:/name@alias, models:/name/7, runs:/<id>/<path> or a run id')
    .argument('<uri>')
    .option(...STORE_FLAG)
    .option('--json', 'print as JSON')
    .action(async (uri: string, flags: { store?: string; json?: boolean }) => {
      const l = await withStore(flags, (s) => s.lineage(uri));
      if (flags.json) return void ctx.io.stdout(`${JSON.stringify(l, null, 2)}\n`);
      const params = (p: Record<string, string>): string => Object.entries(p).map(([k, v]) => `${k}=${v}`).join(' ') || '-';
      const lines = [l.uri];
      if (l.modelVersion) {
        const v = l.modelVersion;
        lines.push(`└─ model version ${v.name}/${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}, registered ${formatTime(v.createdAt)}, from ${v.source}`);
      }
      const chain = [l.run, ...l.ancestors];
      chain.forEach((r, i) => {
        const pad = '   '.repeat(i + (l.modelVersion ? 1 : 0));
        lines.push(`${pad}└─ ${i === 0 ? 'run' : 'parent run'} ${r.id} ${r.name} (${r.experimentName}, ${r.status}, ${formatTime(r.startTime)})`);
        lines.push(`${pad}   params: ${params(r.params)}`);
        if (r.codeHash || r.gitCommit) lines.push(`${pad}   code: bundle ${r.codeHash ?? '-'}, git ${r.gitCommit ?? '-'}`);
        for (const d of l.datasets.filter((x) => x.runId === r.id)) {
          const what = d.kind === 'files' ? `${d.files.length} files` : `${String(d.source.relation)} at snapshot ${String(d.source.snapshot)}`;
          lines.push(`${pad}   data (${d.role}): ${d.id} — ${what}${d.rowCount !== null ? `, ${d.rowCount} rows` : ''}`);
        }
      });
      for (const f of l.featurePipelines) lines.push(`   feature pipeline ${f}`);
      for (const d of l.deployments) lines.push(`   deployed to ${d.target} at ${formatTime(d.deployedAt)} by ${d.deployedBy}`);
      ctx.io.stdout(`${lines.join('\n')}\n`);
    });
}
