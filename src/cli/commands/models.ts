/** `shoal models list|show|alias`: the model registry of the platform store. */
import { Command } from 'commander';
import { invalidOption } from '../../core/index.js';
import type { CliContext } from '../cli-context.js';
import { formatTime, table } from '../format.js';
import { STORE_FLAG, withStore } from './runs.js';

export function modelsCommand(ctx: CliContext): Command {
  const cmd = new Command('models').description('look at and move aliases of the registered models');
  cmd
    .command('list')
    .description('list registered models with their latest version and aliases')
    .option(...STORE_FLAG)
    .option('--json', 'print as JSON')
    .action(async (flags: { store?: string; json?: boolean }) => {
      const models = await withStore(flags, (s) => s.listModels());
      if (flags.json) return void ctx.io.stdout(`${JSON.stringify(models, null, 2)}\n`);
      if (!models.length) return void ctx.io.stdout('No registered models yet.\n');
      const aliases = (a: Record<string, number>): string => Object.entries(a).map(([k, v]) => `${k}→${v}`).join(' ') || '-';
      ctx.io.stdout(`${table([['MODEL', 'LATEST', 'ALIASES', 'UPDATED', 'DESCRIPTION'], ...models.map((m) => [m.name, String(m.latestVersion ?? '-'), aliases(m.aliases), formatTime(m.updatedAt), m.description ?? ''])], '')}\n`);
    });
  cmd
    .command('show <name>')
    .description('a registered model: its versions, aliases and the history of its aliases')
    .option(...STORE_FLAG)
    .option('--json', 'print as JSON')
    .action(async (name: string, flags: { store?: string; json?: boolean }) => {
      const { model, versions, history } = await withStore(flags, async (s) => ({
        model: await s.getModel(name), versions: await s.listModelVersions(name), history: await s.aliasHistory(name),
      }));
      if (flags.json) return void ctx.io.stdout(`${JSON.stringify({ model, versions, history }, null, 2)}\n`);
      ctx.io.stdout(
        `model ${model.name}${model.description ? ` — ${model.description}` : ''}\n` +
          `${table([['VERSION', 'ALIASES', 'CREATED', 'SOURCE', 'SIGNATURE'], ...versions.map((v) => [
            String(v.version), v.aliases.join(' ') || '-', formatTime(v.createdAt), v.source,
            v.signature ? `${v.signature.inputs.map((i) => i.name).join(',')} → ${v.signature.outputs.map((o) => o.name).join(',')}` : '-',
          ])])}\n` +
          `alias history:\n${history.map((h) => `  ${formatTime(h.setAt)}  ${h.alias}: ${h.previousVersion ?? '-'} → ${h.version ?? '(removed)'}  by ${h.setBy}${h.reason ? `: ${h.reason}` : ''}`).join('\n') || '  (none)'}\n`,
      );
    });
  cmd
    .command('alias <name> <alias> <version>')
    .description('point an alias (champion, challenger, ...) at a version, recorded with who and why')
    .option(...STORE_FLAG)
    .option('--reason <text>', 'why (kept in the alias history)')
    .option('--if-current <version>', "move only if the alias points at this version now ('none': only if unset)")
    .action(async (name: string, alias: string, version: string, flags: { store?: string; reason?: string; ifCurrent?: string }) => {
      if (!/^[1-9]\d*$/.test(version)) throw invalidOption('version', `must be a positive integer; got ${version}`);
      const ifCurrent = flags.ifCurrent === undefined ? undefined : flags.ifCurrent === 'none' ? null : Number(flags.ifCurrent);
      const before = await withStore(flags, (s) => s.setAlias(name, alias, Number(version), { reason: flags.reason, ifCurrent }));
      ctx.io.stdout(`${name}@${alias}: ${before ?? '-'} → ${version}\n`);
    });
  return cmd;
}
