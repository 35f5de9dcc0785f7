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

interface DashboardFlags {
  address?: string;
  tokenFile?: string;
  open: boolean;
}

export function dashboardCommand(ctx: CliContext): Command {
  return new Command('dashboard')
    .description("print the address of the cluster's dashboard, and open it in a browser when there is one")
    .option('--address <host:port>', 'head to ask (default: SHOAL_ADDRESS, else the cluster `shoal start` recorded)')
    .option('--token-file <file>', 'file holding the cluster token (default: SHOAL_TOKEN, SHOAL_TOKEN_FILE, the recorded one)')
    .option('--no-open', 'only print the address')
    .action(async (flags: DashboardFlags) => {
      const status = await withHead(flags, (head) => head.control('status'));
      const url = status.head?.httpMounts?.dashboard;
      if (!url) {
        throw new NoClusterError(`the head at ${status.head?.address ?? '?'} serves no dashboard (it was started without it, or with its HTTP server off)`);
      }
      ctx.io.stdout(`Dashboard: ${url}\nLog in with the cluster token: the token file ${status.head?.dir ? `${status.head.dir}/token` : 'of the cluster'}\n`);
      if (flags.open && openBrowser(url)) ctx.io.stdout('Opened it in the browser.\n');
    });
}

/** Opens `url` with xdg-open when a display is there; false when there is no browser to open. */
function openBrowser(url: string): boolean {
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false;
  const opener = ['/usr/bin/xdg-open', '/usr/local/bin/xdg-open'].find((p) => existsSync(p));
  if (!opener) return false;
  spawn(opener, [url], { detached: true, stdio: 'ignore' }).unref();
  return true;
}
