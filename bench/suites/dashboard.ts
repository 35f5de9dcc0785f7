/**
 * Dashboard suite: what an open dashboard costs a busy head. The core suite's task storm (20,000
 * no-op tasks from one driver) runs with pages open and streaming (PAGES connections to
 * /api/stream, each also reading /api/tasks and /api/cluster every second, as the Tasks page does)
 * against the same storm with no dashboard open, interleaved run by run on one cluster.
 * Reported: task throughput (target ≥ 0.9× the no-dashboard run), the head's CPU time per storm
 * (from /proc), and the head's HTTP round trip during the storm (p99 of GET /api/session every
 * 20 ms: how long the head's event loop keeps a request waiting). The page clients and the probe
 * run in a process of their own (bench/fixtures/dashboard-pages.ts), in both runs: in the driver
 * they took the CPU the storm needs, and the ratio measured the bench, not the head.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { get, init, shutdown, startLocalCluster, type ObjectRef } from 'shoal';
import { DASHBOARD_EXTENSION } from 'shoal/dashboard';
import { noop } from '../fixtures/core-tasks.js';
import { repeat, type BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import { fixtureJs } from '../lib/paths.js';
import { forceGc, perSecond, timeAsync } from '../lib/timing.js';

const TASKS = 20_000;
const PAGES = 3;
const PROBE_INTERVAL_MS = 20;
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * The page clients and the probe (bench/fixtures/dashboard-pages.ts) in their own process:
 * `pages` streaming pages (0: the probe only, for the no-dashboard run). `stop()` ends them and
 * gives the probe's p99.
 */
async function startClients(base: string, token: string, pages: number): Promise<{ stop(): Promise<{ p99Ms: number; probes: number }> }> {
  const child = spawn(process.execPath, [fixtureJs('dashboard-pages'), JSON.stringify({ base, token, pages, probeMs: PROBE_INTERVAL_MS })], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const next = (): Promise<string> => new Promise((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`dashboard-pages exited with ${code}`)));
  });
  const ready = await next();
  if (ready !== 'ready') throw new Error(`dashboard-pages said ${ready}`);
  return {
    async stop() {
      const result = next();
      child.stdin!.write('stop\n');
      return JSON.parse(await result) as { p99Ms: number; probes: number };
    },
  };
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const lc = await startLocalCluster({ numWorkers: 1, numCpus: 2, objectStoreBytes: 256 * 2 ** 20, headOptions: { extensions: [DASHBOARD_EXTENSION] } });
  try {
    const base = (lc.head as { httpMounts?: Record<string, string> }).httpMounts?.dashboard;
    if (!base) throw new Error('the head serves no dashboard');
    const token = readFileSync(lc.head.tokenFile, 'utf8').trim();
    const headPid = lc.processes[0]!.child.pid!;
    await init({ address: lc.head.address, tokenFile: lc.head.tokenFile });
    await get(Array.from({ length: 2000 }, () => noop.remote()));
    const storm = async (withDashboard: boolean): Promise<{ rate: number; cpu: number; p99: number }> => {
      const clients = await startClients(base, token, withDashboard ? PAGES : 0);
      if (withDashboard) await new Promise((r) => setTimeout(r, 1500)); // pages streaming and polling before the storm
      forceGc();
      const cpu0 = cpuSeconds(headPid);
      const ms = await timeAsync(async () => {
        const refs = new Array<ObjectRef<null>>(TASKS);
        for (let i = 0; i < TASKS; i++) refs[i] = noop.remote();
        await get(refs, { timeoutMs: 120_000 });
      });
      const cpu = cpuSeconds(headPid) - cpu0;
      const { p99Ms } = await clients.stop();
      return { rate: perSecond(TASKS, ms), cpu, p99: p99Ms };
    };
    const r = await repeat(ctx, 'storm', async () => {
      const without = await storm(false);
      const withPages = await storm(true);
      return { value: withPages.rate, baseline: without.rate, cpu: withPages.cpu, baseCpu: without.cpu, p99: withPages.p99, baseP99: without.p99 };
    }, { warmup: 1 });
    return [
      makeResult({
        metric: `task storm with ${PAGES} dashboard pages streaming`, unit: 'tasks/s', better: 'higher', target: null,
        samples: r.value, baseline: 'same storm, no dashboard open', baselineSamples: r.baseline,
        notes: `${TASKS} noop.remote() then get() all; target: ratio >= 0.9`,
      }),
      makeResult({
        metric: 'head CPU per storm with the dashboard streaming', unit: 's', better: 'lower', target: null,
        samples: r.cpu, baseline: 'same storm, no dashboard open', baselineSamples: r.baseCpu,
        notes: 'user+system CPU seconds of the head process over the storm (/proc/<pid>/stat)',
      }),
      makeResult({
        metric: 'head HTTP round trip p99 during the storm, dashboard streaming', unit: 'ms', better: 'lower', target: null,
        samples: r.p99, baseline: 'same storm, no dashboard open', baselineSamples: r.baseP99,
        notes: `GET /api/session every ${PROBE_INTERVAL_MS} ms: the wait the head's event loop adds`,
      }),
    ];
  } finally {
    await shutdown().catch(() => undefined);
    await lc.stop();
  }
}
