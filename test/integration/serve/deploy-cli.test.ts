/**
 * `shoal serve deploy` against a running serve instance (real cluster, real HTTP, the real CLI in
 * its own process): a module's app deploys and keeps serving after the command exited, a second
 * deploy hot-swaps it, a YAML config deploys the apps it lists, and bad targets are refused saying
 * what was wrong. `shoal serve start` runs an instance of its own on the cluster that deploy,
 * status and shutdown reach.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServeKey, startServe, type Serve } from 'shoal/serve';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { call } from '../../fixtures/serve/http-client.js';
import { BIN, CliHome, REPO_ROOT } from '../cli/cli-harness.js';

const MODULE = resolve('test/fixtures/serve/deployable.mjs');
let tc: TestCluster;
let serve: Serve;
let key: string;
let dir: string;
const cli = new CliHome();

beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
  dir = mkdtempSync(join(tmpdir(), 'shoal-serve-deploy-'));
  const keysFile = join(dir, 'serve-keys.json');
  key = createServeKey({ file: keysFile });
  serve = await startServe({ port: 0, clusterToken: tc.token, serveKeysFile: keysFile });
}, 120_000);
let started: ChildProcess | undefined;
afterAll(async () => {
  if (started && started.exitCode === null) started.kill('SIGKILL');
  await serve?.shutdown();
  await tc?.stop();
  cli.cleanup();
});

const shoal = (args: string[]) => cli.run(['serve', ...args], { env: { SHOAL_TOKEN: tc.token, SHOAL_SERVE_URL: serve.url } });

describe('shoal serve deploy', () => {
  it('deploys a module\'s app that keeps serving after the command exited, and hot-swaps it', async () => {
    expect(await shoal(['deploy', MODULE, '--route', '/dep'])).toMatchObject({ code: 0, stdout: 'deployed: version d1 serves /dep\n' });
    expect((await call(`${serve.url}/dep/x`, { key })).body).toEqual({ tag: 'd1', path: '/x' });
    expect(await shoal(['deploy', MODULE, '--export', 'v2'])).toMatchObject({ code: 0, stdout: 'deployed: version d2 serves /dep\n' });
    const r = await call(`${serve.url}/dep/y`, { key });
    expect(r.body).toEqual({ tag: 'd2', path: '/y' });
    expect(r.headers['x-shoal-version']).toBe('d2');
    // Deployed again with another route: it moves there.
    expect(await shoal(['deploy', MODULE, '--export', 'v2', '--route', '/dep-moved'])).toMatchObject({ code: 0, stdout: 'deployed: version d2 serves /dep-moved\n' });
    expect((await call(`${serve.url}/dep-moved/z`, { key })).body).toEqual({ tag: 'd2', path: '/z' });
    expect((await call(`${serve.url}/dep/z`, { key })).status).toBe(404);
  }, 120_000);

  it('deploys the apps a YAML config lists, module paths relative to the config', async () => {
    const config = join(dir, 'serve.yaml');
    writeFileSync(config, `applications:\n  - module: ${MODULE}\n    export: app\n    routePrefix: /from-yaml\n`);
    const r = await shoal(['deploy', config]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/^deployed: version d1 serves /);
    expect(serve.controller.get('deployed').stable.version).toBe('d1');
  }, 120_000);

  it('refuses a missing module, an export that is not an app, and a bad config, saying what was wrong', async () => {
    const missing = await shoal(['deploy', join(dir, 'nope.mjs')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/HTTP 400: module .*nope\.mjs does not exist on the serve host/);
    const notApp = await shoal(['deploy', MODULE, '--export', 'notAnApp']);
    expect(notApp.code).toBe(1);
    expect(notApp.stderr).toMatch(/export notAnApp of .*deployable\.mjs is not an application .*its applications: Deployed, app, v2/);
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'applications:\n  - module: ./x.mjs\n    replicas: 3\n');
    const bad = await shoal(['deploy', config]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/applications\[0\] has unknown keys replicas \(allowed: module, export, routePrefix\)/);
    writeFileSync(config, 'apps: []\n');
    expect((await shoal(['deploy', config])).stderr).toMatch(/must have a non-empty list `applications`/);
  }, 120_000);
});

describe('shoal serve start', () => {
  it('runs an instance on the cluster until `shoal serve shutdown`; deploy and status reach it', async () => {
    const keysFile = join(dir, 'start-keys.json');
    const startKey = createServeKey({ file: keysFile });
    const env = { ...process.env, SHOAL_HOME: cli.dir, SHOAL_TOKEN: tc.token };
    const child = spawn(process.execPath, [BIN, 'serve', 'start', '--address', tc.address, '--port', '0', '--keys-file', keysFile], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    started = child;
    let out = '';
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const startedUrl = await new Promise<string>((resolveUrl, reject) => {
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /serving at (http:\/\/\S+)/.exec(out);
        if (m) resolveUrl(m[1]!);
      });
      void exited.then((code) => reject(new Error(`serve start exited (${code}) before listening: ${err}`)));
    });
    const at = (args: string[]) => cli.run(['serve', ...args], { env: { SHOAL_TOKEN: tc.token, SHOAL_SERVE_URL: startedUrl } });
    expect(await at(['deploy', MODULE, '--route', '/s'])).toMatchObject({ code: 0, stdout: 'deployed: version d1 serves /s\n' });
    expect((await call(`${startedUrl}/s/z`, { key: startKey })).body).toEqual({ tag: 'd1', path: '/z' });
    expect((await at(['status'])).stdout).toMatch(/deployed +\/s +d1/);
    expect(await at(['shutdown'])).toMatchObject({ code: 0 });
    expect(await exited).toBe(0);
  }, 180_000);

  it('--detached: the instance runs as an actor on the cluster after the command exited, until `shoal serve shutdown`', async () => {
    const keysFile = join(dir, 'detached-keys.json');
    const detachedKey = createServeKey({ file: keysFile });
    const env = { SHOAL_HOME: cli.dir, SHOAL_TOKEN: tc.token };
    const r = await cli.run(['serve', 'start', '--detached', '--address', tc.address, '--port', '0', '--keys-file', keysFile], { env });
    expect(r, r.stderr).toMatchObject({ code: 0 });
    const url = /serving at (http:\/\/\S+) \(detached/.exec(r.stdout)?.[1];
    expect(url, r.stdout + r.stderr).toBeDefined();
    const at = (args: string[]) => cli.run(['serve', ...args], { env: { SHOAL_TOKEN: tc.token, SHOAL_SERVE_URL: url! } });
    // The command that started it has exited: the instance deploys and serves on its own.
    expect(await at(['deploy', MODULE, '--route', '/d'])).toMatchObject({ code: 0, stdout: 'deployed: version d1 serves /d\n' });
    expect((await call(`${url}/d/z`, { key: detachedKey })).body).toEqual({ tag: 'd1', path: '/z' });
    expect((await at(['status'])).stdout).toMatch(/deployed +\/d +d1/);
    // A second start finds the running instance.
    const again = await cli.run(['serve', 'start', '--detached', '--address', tc.address, '--port', '0', '--keys-file', keysFile], { env });
    expect(again.stdout).toContain(`serving at ${url} `);
    expect(await at(['shutdown'])).toMatchObject({ code: 0 });
    await waitFor('the detached instance stopped', async () => (await call(`${url}/-/healthz`).catch(() => undefined)) === undefined, 60_000);
  }, 180_000);
});
