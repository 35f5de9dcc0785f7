/**
 * `shoal serve start`: a serve instance (controller + HTTP ingress) in the foreground, joined to a
 * running cluster, until `shoal serve shutdown` or Ctrl-C. Apps come to it with `shoal serve deploy`
 * and outlive the commands that sent them. Prints `serving at <url>` once the ingress listens.
 * With `--detached` the instance runs as a detached actor on the cluster (serve-host.ts) and the
 * command exits once it listens; `shoal serve shutdown` stops it.
 */
import type { Command } from 'commander';
import { init, invalidOption, shutdown } from '../../core/index.js';
import { serveKeysFile, startDetachedServe, startServe } from '../../serve/index.js';
import type { CliContext } from '../cli-context.js';

interface StartFlags {
  address?: string;
  host: string;
  port: string;
  keysFile?: string;
  detached?: boolean;
}

export function addServeStart(cmd: Command, ctx: CliContext): void {
  cmd.command('start')
    .description('run a serve instance on a running cluster until `shoal serve shutdown` or Ctrl-C; deploy to it with `shoal serve deploy`')
    .option('--address <host:port>', 'the cluster (default: SHOAL_ADDRESS, else the cluster `shoal start` recorded)')
    .option('--host <host>', 'address the ingress binds', '127.0.0.1')
    .option('--port <port>', 'ingress port (0 picks a free one)', '8000')
    .option('--keys-file <file>', 'serving keys file (default: $SHOAL_HOME/serve-keys.json)')
    .option('--detached', 'run the instance as a detached actor on the cluster and exit once it listens')
    .action(async (flags: StartFlags) => {
      const port = Number(flags.port);
      if (!/^\d+$/.test(flags.port) || port > 65_535) throw invalidOption('--port', `must be a port number 0..65535 (got ${flags.port})`);
      const info = await init({ address: flags.address ?? process.env.SHOAL_ADDRESS ?? 'auto' });
      if (flags.detached) {
        try {
          const { url } = await startDetachedServe({ host: flags.host, port, serveKeysFile: flags.keysFile ?? serveKeysFile() });
          ctx.io.stdout(`serving at ${url} (detached: stop it with \`shoal serve shutdown\`)\n`);
        } finally {
          await shutdown();
        }
        return;
      }
      try {
        const serve = await startServe({
          host: flags.host, port, ...(flags.keysFile ? { serveKeysFile: flags.keysFile } : {}),
          ...(info.tokenFile && !process.env.SHOAL_TOKEN ? { clusterTokenFile: info.tokenFile } : {}),
        });
        const stop = (): void => void serve.shutdown();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        ctx.io.stdout(`serving at ${serve.url}\n`);
        await serve.stopped();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      } finally {
        await shutdown();
      }
    });
}
