/**
 * `shoal down cluster.yaml`: stops every shoal process of the cluster on the hosts of its YAML, also
 * workers the autoscaler launched; safe to run twice.
 */
import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { loadClusterConfig } from '../launcher/cluster-config.js';
import { down, EXIT_PARTIAL } from '../launcher/launcher.js';

export function downCommand(ctx: CliContext): Command {
  return new Command('down')
    .description('stop the head and workers `shoal up` started for a cluster YAML (idempotent)')
    .argument('<cluster.yaml>', 'the cluster YAML given to `shoal up`')
    .addHelpText('after', `
Exit codes: 0 when every host was handled; ${EXIT_PARTIAL} when some hosts could not be reached (named on stderr).`)
    .action(async (file: string) => {
      ctx.exitCode = await down(ctx, loadClusterConfig(file));
    });
}
