/** A driver process's life: it connects to a running cluster, works, shuts down and exits by itself. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestCluster } from '../../harness/test-cluster.js';

let tc: TestCluster;
beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 1, connect: false });
});
afterAll(async () => {
  await tc?.stop();
});

function runDriver(file: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [file], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

it('a driver connected to a running cluster exits promptly after shutdown()', async () => {
  const file = fileURLToPath(new URL('../../fixtures/core/short-driver.mjs', import.meta.url));
  const r = await runDriver(file, { SHOAL_ADDRESS: tc.address, SHOAL_TOKEN: tc.token });
  expect(r.stdout.trim()).toBe('{"value":41}');
  expect(r.code).toBe(0);
  // Today the process lingers ~10 s after shutdown(): a gRPC socket to the head stays open.
  expect(r.ms).toBeLessThan(4_000);
});

it('the head forgets the driver once it is gone', async () => {
  // Nothing from the exited driver keeps the cluster busy.
  const { init, clusterStatus, shutdown } = await import('shoal');
  await init({ address: tc.address, token: tc.token });
  try {
    const s = await clusterStatus();
    expect(s.tasks).toEqual({ pending: 0, running: 0 });
    expect(s.nodes).toHaveLength(1);
  } finally {
    await shutdown();
  }
});
