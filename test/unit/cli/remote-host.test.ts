/**
 * The launch scripts of `shoal up` run by a local shell (`kind: local`, the same script SSH would
 * run): failures name the host and what is wrong; SSH failures are HostUnreachableError.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { HostUnreachableError, RemoteStartError, runScript, shellQuote, startRemote, stopRemote, type RemoteRuntime } from '../../../src/core/index.js';

const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'shoal-remote-host-'));
const local = { kind: 'local', host: '127.0.0.1' } as const;
const rt = (o: Partial<RemoteRuntime> = {}): RemoteRuntime => ({ installDir: REPO, nodePath: process.execPath, sessionDir: dir, env: {}, ...o });

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('shellQuote survives quotes and shell syntax', async () => {
  const nasty = `it's "$(rm -rf /)" \`x\` ; & | \\ $HOME`;
  const r = await runScript(local, `printf '%s' ${shellQuote(nasty)}`);
  expect(r).toEqual({ code: 0, stdout: nasty, stderr: '' });
});

it('a missing install_dir or node is named', async () => {
  await expect(startRemote(local, rt({ installDir: '/nonexistent/shoal' }), 'worker', {}, { name: 'worker@x@1' }))
    .rejects.toThrow(new RemoteStartError('127.0.0.1', 'worker', 'shoal is not installed in /nonexistent/shoal (install_dir) on this host'));
  await expect(startRemote(local, rt({ nodePath: '/nonexistent/node' }), 'worker', {}, { name: 'worker@x@2' }))
    .rejects.toThrow(/node \(\/nonexistent\/node\) not found on this host/);
});

it('a process that exits before it is ready is reported with its own reason; its secret file is 0600', async () => {
  // A worker pointed at a head that does not exist gives up: its stderr says why.
  const err = await startRemote(local, rt(), 'worker', {
    headAddress: '127.0.0.1:1', tokenFile: join(dir, 'w.token'), host: '127.0.0.1', numCpus: 1, memoryBytes: 2 ** 30,
    objectStoreBytes: 2 ** 26, dir: join(dir, 'w'), watchParent: false,
  }, { name: 'worker@127.0.0.1@3', secrets: { 'w.token': 'secret' }, readyTimeoutS: 20 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RemoteStartError);
  expect((err as Error).message).toMatch(/^the shoal worker on 127\.0\.0\.1 failed to start: it (exited before it was ready|was not ready after 20 s):/);
  const mode = await runScript(local, `stat -c %a ${shellQuote(join(dir, 'w.token'))}`);
  expect(mode.stdout.trim()).toBe('600');
  // Nothing is left running, and stopping finds nothing.
  expect(await stopRemote(local, rt(), 'worker@127.0.0.1@*')).toEqual([]);
}, 60_000);

it('an SSH target that does not answer is a HostUnreachableError naming the host', async () => {
  const err = await runScript({ kind: 'ssh', host: '127.0.0.1', port: 1, user: 'nobody', connectTimeoutS: 2, knownHostsFile: join(dir, 'kh') }, 'true')
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(HostUnreachableError);
  expect((err as Error).message).toMatch(/^cannot reach host 127\.0\.0\.1 over SSH: .*Connection refused.* \(ssh nobody@127\.0\.0\.1 port 1\)$/);
});
