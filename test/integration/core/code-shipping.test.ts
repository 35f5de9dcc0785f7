/**
 * Code shipping on a real cluster: the module defining a remote function is bundled (npm imports
 * inlined) and imported by workers. Driver code guarded by isMain is skipped there; an unguarded
 * init() and a module that does not compile fail with typed errors.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleBuildError, get, RemoteDefinitionError } from 'shoal';
import { TestCluster } from '../../harness/test-cluster.js';
import { mainSeen, parseConfig, triple, usesBroken } from '../../fixtures/core/index.js';

let tc: TestCluster;
beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
});
afterAll(async () => {
  await tc?.stop();
});

describe('code shipping', () => {
  it('a module importing npm packages (yaml, zod) runs on workers', async () => {
    expect(await get(parseConfig.remote('name: web\nreplicas: 3\n'))).toEqual({ name: 'web', replicas: 3 });
    const err = await get(parseConfig.remote('name: web\nreplicas: -1\n')).catch((e: unknown) => e);
    expect((err as { causeName?: string }).causeName).toBe('ZodError');
  });

  it('a module with driver code guarded by isMain(import.meta) works; isMain is false on workers', async () => {
    expect(await get(triple.remote(14))).toBe(42);
    expect(await get(mainSeen.remote())).toBe(false);
  });

  it('the same isMain-guarded module runs as a script with `node` (a local cluster of its own)', () => {
    const file = fileURLToPath(new URL('../../fixtures/core/with-main.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
      encoding: 'utf8', timeout: 45_000, env: { ...process.env, SHOAL_ADDRESS: tc.address, SHOAL_TOKEN: tc.token },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('6');
    expect(r.status).toBe(0);
  });

  it('a module calling init() at its top level, unguarded, fails the task with RemoteDefinitionError mentioning isMain', async () => {
    // Imported only now: on a process that is not connected yet, its top level would start a cluster.
    const { unguarded } = await import('../../fixtures/core/unguarded-init.js');
    const err = await get(unguarded.remote(), { timeoutMs: 15_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteDefinitionError);
    expect((err as Error).message).toMatch(/init\(\) was called at the top level of a module/);
    expect((err as Error).message).toMatch(/isMain\(import\.meta\)/);
    // Which module did it: the user's file, not the worker's cache path of the bundle.
    expect((err as RemoteDefinitionError).definition).toMatch(/unguarded-init/);
  });

  it('a module importing a file with a syntax error fails get() with BundleBuildError naming the file', async () => {
    const err = await get(usesBroken.remote(), { timeoutMs: 15_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleBuildError);
    const e = err as BundleBuildError;
    expect(e.code).toBe('BUNDLE_BUILD');
    expect(e.entry).toMatch(/fixtures\/core\/broken-import\.ts$/);
    expect(e.details).toMatch(/broken-syntax\.mjs:2:\d+/);
    expect(e.message).toMatch(/broken-syntax\.mjs/);
  });

  it('a build failure is not cached: the error repeats, and other modules still ship', async () => {
    await expect(get(usesBroken.remote(), { timeoutMs: 15_000 })).rejects.toBeInstanceOf(BundleBuildError);
    expect(await get(triple.remote(1))).toBe(3);
  });
});
