/**
 * The `shoal` command end to end: the built CLI runs as real processes against a real cluster it
 * starts in the background, each test group with its own SHOAL_HOME.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CliHome, FIXTURES, isAlive, REPO_ROOT, waitFor, type ClusterRecordJson } from './cli-harness.js';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface JobJson {
  id: string;
  status: string;
  entrypoint: string;
  pid?: number;
  endedAt?: number;
}

describe('shoal command without a cluster', () => {
  const home = new CliHome();
  afterAll(() => home.cleanup());

  it('prints its version and a help with examples', async () => {
    const version = await home.run(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const help = await home.run(['--help']);
    expect(help.code).toBe(0);
    for (const cmd of ['start', 'status', 'stop', 'submit', 'jobs', 'logs', 'stop-job']) expect(help.stdout).toContain(cmd);
    expect(help.stdout).toContain('Examples:');
    expect((await home.run(['start', '--help'])).stdout).toContain('shoal start --head --port 0');
  });

  it('rejects an unknown flag with one line naming it', async () => {
    const r = await home.run(['start', '--head', '--bogus']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(["error: unknown option '--bogus'"]);
  });

  it('rejects --resources that is not JSON, naming the flag', async () => {
    const r = await home.run(['start', '--head', '--port', '0', '--resources', '{GPU:1}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --resources must be a JSON object such as '\{"GPU":1\}', got '\{GPU:1\}'/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const neg = await home.run(['start', '--head', '--resources', '{"GPU":-1}']);
    expect(neg.stderr).toContain("resource 'GPU' must be a number >= 0");
    expect(home.record()).toBeUndefined();
  });

  it('validates the other start flags', async () => {
    expect((await home.run(['start'])).stderr).toContain('shoal start needs --head');
    expect((await home.run(['start', '--head', '--port', '70000'])).stderr).toContain('--port must be a port number from 0 to 65535');
    expect((await home.run(['start', '--head', '--num-cpus', 'two'])).stderr).toContain("--num-cpus must be a whole number >= 0, got 'two'");
    expect((await home.run(['start', '--address', 'nowhere'])).stderr).toContain('--address must be HOST:PORT');
  });

  it('status with no cluster says how to get one and exits 1', async () => {
    const r = await home.run(['status']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no shoal cluster to talk to');
    expect(r.stderr).toContain('shoal start --head');
    expect(r.stderr).toContain(join(home.dir, 'cluster.json'));
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
  });

  it('status at an address where nothing listens names the address', async () => {
    const r = await home.run(['status', '--address', '127.0.0.1:1'], { env: { SHOAL_TOKEN: 'x' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach a shoal head at 127.0.0.1:1: nothing answers there (connection refused)');
    // Without a token, the missing token is not the first complaint when nothing listens there anyway.
    const bare = await home.run(['status', '--address', '127.0.0.1:1']);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain('cannot reach a shoal head at 127.0.0.1:1: nothing answers there (connection refused)');
    expect(bare.stderr).not.toContain('token');
  });

  it('submit checks the script before it looks for a cluster', async () => {
    const r = await home.run(['submit', '--', 'node', 'no/such/job.ts']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the script no/such/job.ts does not exist');
    expect((await home.run(['submit', '--', 'node', 'README.md'])).stderr).toContain('the script must be one of .js, .mjs');
  });

  it('stop with nothing recorded is a no-op', async () => {
    const r = await home.run(['stop']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Nothing to stop');
  });
});

describe('shoal command with a cluster', () => {
  const home = new CliHome();
  const other = new CliHome();
  let started: { stdout: string; code: number };
  let rec: ClusterRecordJson;

  beforeAll(async () => {
    started = await home.run(['start', '--head', '--port', '0', '--num-cpus', '2', '--resources', '{"GPU":1}']);
    if (started.code !== 0) throw new Error(`shoal start failed: ${JSON.stringify(started)}`);
    rec = home.record()!;
  });
  afterAll(() => {
    home.cleanup();
    other.cleanup();
  });

  it('start --head --port 0 prints the actual address, the token file and how to connect', () => {
    expect(rec.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(rec.address).not.toMatch(/:0$/);
    expect(started.stdout).toContain(`Address:     ${rec.address}`);
    expect(started.stdout).toContain(`Token file:  ${rec.tokenFile}`);
    expect(started.stdout).toContain("init({ address: 'auto' })");
    expect(started.stdout).toContain('shoal status');
    expect(started.stdout).toContain(`SHOAL_ADDRESS=${rec.address}`);
    expect(rec.processes.map((p) => p.role)).toEqual(['head', 'worker']);
    for (const pid of rec.pids) expect(isAlive(pid)).toBe(true);
  });

  it('status shows one node with its CPUs and custom resources', async () => {
    const r = await home.run(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Cluster at ${rec.address}`);
    expect(r.stdout).toContain('Nodes: 1 alive');
    expect(r.stdout).toMatch(/CPU\s+2\s+2/);
    expect(r.stdout).toContain('GPU 1/1');
    const json = JSON.parse((await home.run(['status', '--json'])).stdout) as { nodes: Array<{ alive: boolean; total: Record<string, number> }> };
    expect(json.nodes).toHaveLength(1);
    expect(json.nodes[0]!.total).toMatchObject({ CPU: 2, GPU: 1 });
  });

  it("a driver on this host connects with init({ address: 'auto' })", async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, [join(FIXTURES, 'auto-driver.mjs')], {
      env: { ...process.env, SHOAL_HOME: home.dir, SHOAL_ADDRESS: '' },
      timeout: 20_000,
    }).toString();
    expect(out).toContain('auto driver sees 1 node(s)');
  });

  it('a driver calling init() with no address connects to the cluster `shoal start` runs, and says so', async () => {
    const { spawnSync } = await import('node:child_process');
    const run = (...args: string[]) => spawnSync(process.execPath, [join(FIXTURES, 'default-driver.mjs'), ...args], {
      env: { ...process.env, SHOAL_HOME: home.dir, SHOAL_ADDRESS: '' },
      timeout: 30_000,
      encoding: 'utf8',
    });
    const plain = run();
    expect(plain.stdout).toContain(`cluster=existing address=${rec.address} nodes=1`);
    expect(plain.stderr).toContain(`shoal: connected to the cluster \`shoal start\` runs on this host at ${rec.address}`);
    expect(plain.stderr).toContain("init({ address: 'local' }) starts a new local cluster instead");
    const local = run('local');
    expect(local.stdout).toMatch(/cluster=local address=127\.0\.0\.1:\d+ nodes=1/);
    expect(local.stdout).not.toContain(rec.address);
  });


  const submitSquare = async (): Promise<{ r: Awaited<ReturnType<typeof home.run>>; id: string }> => {
    const r = await home.run(['submit', '--', 'node', 'test/fixtures/cli/square-job.ts', '5']);
    return { r, id: /Submitted job (\S+):/.exec(r.stdout)?.[1] ?? '' };
  };

  it('submit runs a TypeScript job with remote functions, follows its output and exits 0', async () => {
    const { r, id: squareJob } = await submitSquare();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(squareJob).not.toBe('');
    expect(r.stdout).toContain('squares: 0,1,4,9,16');
    expect(r.stdout).toContain('a line on stderr');
    expect(r.stdout).toMatch(new RegExp(`job ${squareJob} SUCCEEDED`));
  });

  it('submit runs a job whose remote functions live in a module of their own, as `node main.js` would', async () => {
    const r = await home.run(['submit', '--', 'node', 'test/fixtures/cli/split-job/main.ts', '4']);
    expect(r.stdout).not.toContain('RemoteDefinitionError');
    expect(r.stdout).toContain('cubes: 0,1,8,27');
    expect(r.stdout).toContain('tally: 36');
    expect(r.code).toBe(0);
  });

  it('jobs lists the job and logs prints its output', async () => {
    // Its own job (not the one an earlier test submitted): the test stands alone.
    const { r, id: squareJob } = await submitSquare();
    expect(r.code).toBe(0);
    const jobs = await home.run(['jobs']);
    expect(jobs.code).toBe(0);
    const line = jobs.stdout.split('\n').find((l) => l.startsWith(squareJob));
    expect(line).toMatch(/SUCCEEDED\s+node test\/fixtures\/cli\/square-job\.ts 5\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\S+/);
    const logs = await home.run(['logs', squareJob]);
    expect(logs).toMatchObject({ code: 0, stdout: expect.stringContaining('squares: 0,1,4,9,16') });
    const missing = await home.run(['logs', 'jnope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no job with id 'jnope'");
  });

  it('logs reads the structured logs of the head and the worker', async () => {
    const head = await home.run(['logs', 'head']);
    expect(head.code).toBe(0);
    const first = JSON.parse(head.stdout.split('\n')[0]!) as { role: string; msg: string };
    expect(first).toMatchObject({ role: 'head', msg: 'head started' });
    // JSON.parse keeps the last of duplicate keys: read the raw lines (a session's own role once logged as a second "role").
    const lines = head.stdout.split('\n').filter(Boolean);
    expect(lines.some((l) => l.includes('"msg":"session opened"'))).toBe(true);
    expect(lines.filter((l) => (l.match(/"role":/g) ?? []).length > 1)).toEqual([]);
    expect((await home.run(['logs', 'worker-0'])).stdout).toContain('"msg":"worker started"');
    const missing = await home.run(['logs', 'worker-9']);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining("no log worker-9 on the head's host") });
  });

  it('submit of a failing job exits 1 and reports FAILED', async () => {
    const r = await home.run(['submit', '--', 'node', 'test/fixtures/cli/failing-job.mjs']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('failing on purpose');
    expect(r.stdout).toMatch(/FAILED in \S+: exited with code 3/);
  });

  it('stop-job stops a long job: STOPPED, and its process is gone', async () => {
    const r = await home.run(['submit', '--no-wait', '--', 'node', 'test/fixtures/cli/sleepy-job.mjs']);
    expect(r.code).toBe(0);
    const id = /Submitted job (\S+):/.exec(r.stdout)![1]!;
    await waitFor('the sleepy job to start', async () => (await home.run(['logs', id])).stdout.includes('sleepy job started') || undefined);
    const stop = await home.run(['stop-job', id]);
    expect(stop).toMatchObject({ code: 0, stdout: `Job ${id} STOPPED.\n` });
    const jobs = JSON.parse((await home.run(['jobs', '--json'])).stdout) as JobJson[];
    const job = jobs.find((j) => j.id === id)!;
    expect(job.status).toBe('STOPPED');
    expect(job.endedAt).toBeDefined();
    expect(isAlive(job.pid!)).toBe(false);
    expect((await home.run(['stop-job', id])).stdout).toContain('already ended: STOPPED');
  });

  it('a wrong token is rejected with a message about the token', async () => {
    const r = await home.run(['status'], { env: { SHOAL_TOKEN: 'not-the-token' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the head at ${rec.address} rejected the cluster token`);
    expect(r.stderr).toContain('came from SHOAL_TOKEN');
  });

  it('a second head on the taken port fails naming the port, and leaves nothing behind', async () => {
    const port = rec.address.split(':')[1]!;
    const r = await other.run(['start', '--head', '--port', port]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: port ${port} on 127.0.0.1 is already in use`);
    expect(other.record()).toBeUndefined();
  });

  it('a second head in the same SHOAL_HOME is refused while the first runs', async () => {
    const r = await home.run(['start', '--head', '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`already running on this host at ${rec.address}`);
  });

  it('start --address adds a worker that joins, recorded for stop', async () => {
    const r = await home.run(['start', '--address', rec.address, '--num-cpus', '1', '--token-file', rec.tokenFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`joined the cluster at ${rec.address}`);
    expect(home.record()!.processes.map((p) => p.role)).toEqual(['head', 'worker', 'worker']);
    const json = JSON.parse((await home.run(['status', '--json'])).stdout) as { nodes: Array<{ alive: boolean }> };
    expect(json.nodes.filter((n) => n.alive)).toHaveLength(2);
    const bad = await home.run(['start', '--address', rec.address], { env: { SHOAL_TOKEN: 'wrong' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('rejected the cluster token');
  });

  it('stop stops every recorded process and forgets the cluster', async () => {
    const jobs = JSON.parse((await home.run(['jobs', '--json'])).stdout) as JobJson[];
    const pids = home.record()!.pids;
    const r = await home.run(['stop']);
    expect(r.code).toBe(0);
    for (const pid of pids) expect(r.stdout).toMatch(new RegExp(`pid ${pid}: (stopped|killed)`));
    expect(r.stdout).toContain(`Stopped 3 shoal processes of the cluster at ${rec.address}`);
    for (const pid of [...pids, ...jobs.map((j) => j.pid!)]) expect(isAlive(pid)).toBe(false);
    expect(home.record()).toBeUndefined();
    const status = await home.run(['status']);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('no shoal cluster to talk to');
  });
});

describe('shoal start --block', () => {
  const home = new CliHome();
  afterAll(() => home.cleanup());

  it('stays in the foreground and stops what it started on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'start', '--head', '--port', '0', '--num-cpus', '0', '--block'], {
      env: { ...process.env, SHOAL_HOME: home.dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const rec = await waitFor('the blocking start to record its head', () => (stdout.includes('Ctrl-C stops the cluster') ? home.record() : undefined));
      expect(rec.processes.map((p) => p.role)).toEqual(['head']); // --num-cpus 0: no worker
      expect(stdout).toContain('(no worker: --num-cpus 0)');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      for (const pid of rec.pids) expect(isAlive(pid)).toBe(false);
      expect(home.record()).toBeUndefined();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
