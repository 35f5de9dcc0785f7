/**
 * `shoal up cluster.yaml`: starts the head and workers on the hosts a cluster YAML names, over SSH
 * (see src/cli/launcher/launcher.ts and cluster/example-cluster.yaml).
 */
import { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { loadClusterConfig } from '../launcher/cluster-config.js';
import { EXIT_PARTIAL, up } from '../launcher/launcher.js';

export function upCommand(ctx: CliContext): Command {
  return new Command('up')
    .description('start a cluster on the hosts of a cluster YAML (head and workers over SSH)')
    .argument('<cluster.yaml>', 'the cluster YAML (see cluster/example-cluster.yaml)')
    .addHelpText('after', `
Exit codes: 0 when every host started and joined; ${EXIT_PARTIAL} when some worker hosts failed (named
on stderr) and the others run; 1 when the YAML is invalid or the head could not start.

Example:
  $ shoal up cluster/example-cluster.yaml
  $ shoal down cluster/example-cluster.yaml`)
    .action(async (file: string) => {
      ctx.exitCode = await up(ctx, loadClusterConfig(file));
    });
}
