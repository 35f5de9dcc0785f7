/** `shoal stop`: stops every process `shoal start` recorded in $SHOAL_HOME and forgets the cluster. */
import { Command } from 'commander';
import { sweepHandOverFiles } from '../../core/index.js';
import type { CliContext } from '../cli-context.js';
import { parseCount } from '../cli-options.js';
import { clusterRecordPath, readClusterRecord, removeClusterRecord } from '../cluster-record.js';
import { STOP_GRACE_MS, stopRecordedProcesses, type StopOutcome } from '../process-control.js';

const OUTCOME_TEXT: Record<StopOutcome, string> = {
  stopped: 'stopped',
  killed: 'killed (it did not exit after SIGTERM)',
  'not-running': 'was not running',
  'not-shoal': 'left alone: the pid now belongs to another program',
};

export function stopCommand(ctx: CliContext): Command {
  return new Command('stop')
    .description('stop the head and workers `shoal start` started on this host (SIGTERM, then SIGKILL)')
    .option('--grace-ms <ms>', 'wait this long after SIGTERM before SIGKILL', (v) => parseCount('--grace-ms', v), STOP_GRACE_MS)
    .action(async (flags: { graceMs: number }) => {
      const record = readClusterRecord();
      if (!record) {
        ctx.io.stdout(`Nothing to stop: no cluster is recorded in ${clusterRecordPath()}.\n`);
        return;
      }
      const outcome = await stopRecordedProcesses(record.processes, flags.graceMs);
      for (const [p, o] of outcome) ctx.io.stdout(`${p.role} pid ${p.pid}: ${OUTCOME_TEXT[o]}\n`);
      removeClusterRecord();
      // Shared-memory hand-over files of processes that died mid-transfer (a driver killed during a get).
      const swept = sweepHandOverFiles();
      if (swept.length) ctx.io.stdout(`Removed ${swept.length} shared-memory hand-over file${swept.length === 1 ? '' : 's'} left by dead processes.\n`);
      const n = [...outcome.values()].filter((o) => o === 'stopped' || o === 'killed').length;
      ctx.io.stdout(`Stopped ${n} shoal process${n === 1 ? '' : 'es'} of the cluster at ${record.address}; removed ${clusterRecordPath()}.\n`);
    });
}
