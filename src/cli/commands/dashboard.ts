/**
 * `shoal dashboard`: prints the address of the cluster's dashboard (and opens it when this host has
 * a graphical browser). The dashboard asks for the cluster token once; the token file's path is
 * printed beside the address.
 */
import { Command } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { CliContext } from '../cli-context.js';
import { NoClusterError } from '../errors.js';
import { withHead } from '../with-head.js';
import { parsePort } from '../cli-options.js';
import { serveHistory } from '../../dashboard/index.js';

interface DashboardFlags {
  address?: string;
  tokenFile?: string;
  open: boolean;
  history?: string;
  host?: string;
  port?: number;
}

export function dashboardCommand(ctx: CliContext): Command {
  return new Command('dashboard')
    .description("print the address of the cluster's dashboard, and open it in a browser when there is one")
    .option('--address <host:port>', 'head to ask (default: SHOAL_ADDRESS, else the cluster `shoal start` recorded)')
    .option('--token-file <file>', 'file holding the cluster token (default: SHOAL_TOKEN, SHOAL_TOKEN_FILE, the recorded one)')
    .option('--no-open', 'only print the address')
    .option('--history <SHOAL_HOME|store|url>', 'serve the dashboard read-only from the head store of a stopped cluster (a SHOAL_HOME, a cluster folder, a head.sqlite file or a postgres:// URL), until Ctrl-C')
    .option('--host <host>', 'with --history: interface to bind (default: 127.0.0.1)')
    .option('--port <port>', 'with --history: port; 0 picks a free one (default: 0)', (v) => parsePort('--port', v))
    .addHelpText('after', `
Examples:
  $ shoal dashboard                          # the running cluster's dashboard
  $ shoal dashboard --history ~/.shoal       # after \`shoal stop\`: its newest cluster's history, read-only`)
    .action(async (flags: DashboardFlags) => {
      if (flags.history !== undefined) return serveHistoryUntilSignal(ctx, flags.history, flags);
      const status = await withHead(flags, (head) => head.control('status'));
      const url = status.head?.httpMounts?.dashboard;
      if (!url) {
        throw new NoClusterError(`the head at ${status.head?.address ?? '?'} serves no dashboard (it was started without it, or with its HTTP server off)`);
      }
      ctx.io.stdout(`Dashboard: ${url}\nLog in with the cluster token: the token file ${status.head?.dir ? `${status.head.dir}/token` : 'of the cluster'}\n`);
      if (flags.open && openBrowser(url)) ctx.io.stdout('Opened it in the browser.\n');
    });
}

/** `--history`: serves the stopped cluster's dashboard until SIGINT or SIGTERM. */
async function serveHistoryUntilSignal(ctx: CliContext, spec: string, flags: DashboardFlags): Promise<void> {
  const d = await serveHistory(spec, { host: flags.host, port: flags.port });
  ctx.io.stdout(
    `Dashboard (history, read-only): ${d.url}\n  Store: ${d.store}\n` +
      (d.tokenFile ? `  Log in with the cluster token: the token file ${d.tokenFile}\n` : `  Log in with this token (made for this server): ${d.token}\n`) +
      'Ctrl-C stops it.\n',
  );
  if (flags.open) openBrowser(d.url);
  await new Promise<void>((resolvePromise) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolvePromise();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await d.close();
}

/** Opens `url` with xdg-open when a display is there; false when there is no browser to open. */
function openBrowser(url: string): boolean {
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false;
  const opener = ['/usr/bin/xdg-open', '/usr/local/bin/xdg-open'].find((p) => existsSync(p));
  if (!opener) return false;
  spawn(opener, [url], { detached: true, stdio: 'ignore' }).unref();
  return true;
}
