/**
 * How the head starts a triggered run: a `shoal pipeline run <module> --json` process connected to
 * the head as a driver (the head process itself never becomes a driver), with the cluster's token
 * file. The process records the run in the platform store like a manual run, tagged with the
 * trigger; its output goes to `<logDir>/<trigger>-<time>.log`. The launch resolves when it exits.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../core/index.js';
import type { LaunchOutcome, LaunchRequest, RunLauncher } from './trigger-state.js';

/** The `shoal` command of this package. */
export const SHOAL_BIN = join(PACKAGE_ROOT, 'bin', 'shoal.js');

export interface CliLauncherOptions {
  /** The head's address (`host:port`). */
  address: string;
  tokenFile: string;
  /** Where each run's output is written. */
  logDir: string;
}

export function cliLauncher(o: CliLauncherOptions): RunLauncher {
  return {
    launch(req: LaunchRequest): Promise<LaunchOutcome> {
      mkdirSync(o.logDir, { recursive: true });
      const log = join(o.logDir, `${req.triggerId}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
      const fd = openSync(log, 'a');
      const args = [SHOAL_BIN, 'pipeline', 'run', req.module, '--name', req.pipeline, '--address', o.address, '--trigger', req.triggerId, '--json'];
      for (const [k, v] of Object.entries(req.params)) args.push('--param', `${k}=${v}`);
      const child = spawn(process.execPath, args, { env: { ...process.env, SHOAL_TOKEN_FILE: o.tokenFile }, stdio: ['ignore', 'pipe', fd] });
      closeSync(fd);
      let out = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => (out += d));
      return new Promise((resolve) => {
        child.on('error', (err) => resolve({ runId: null, error: `could not start shoal pipeline run: ${err.message}` }));
        child.on('close', (code) => {
          let runId: string | null = null;
          let error: string | null = null;
          try {
            const run = JSON.parse(out) as { id?: string; error?: string | null };
            runId = run.id ?? null;
            error = run.error ?? null;
          } catch {
            // No JSON: it failed before a run was recorded (see the log).
          }
          if (code !== 0 && error === null) error = `shoal pipeline run exited with code ${code}; see ${log}`;
          resolve({ runId, error });
        });
      });
    },
  };
}
