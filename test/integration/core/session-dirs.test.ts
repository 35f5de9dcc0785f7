/**
 * Local-cluster session folders under <tmp>/shoal: the one init() made goes at shutdown(), and
 * folders whose owner process is gone are swept when the next local cluster starts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { init, shutdown } from 'shoal';

afterAll(async () => {
  await shutdown();
});

describe('local-cluster session folders', () => {
  it("are removed at shutdown(), and a dead owner's folder is swept at the next start", async () => {
    // A pid that surely belongs to no process any more: a child that has exited.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    const stale = join(tmpdir(), 'shoal', `session-${gone}-stale${Date.now()}`);
    mkdirSync(join(stale, 'logs'), { recursive: true });
    writeFileSync(join(stale, 'logs', 'head.log'), '{}\n');
    const info = await init({ address: 'local', numCpus: 1 });
    expect(info.cluster).toBe('local');
    expect(info.dir).toMatch(new RegExp(`/shoal/session-${process.pid}-`));
    expect(existsSync(info.dir!)).toBe(true);
    expect(existsSync(stale)).toBe(false);
    await shutdown();
    expect(existsSync(info.dir!)).toBe(false);
  });
});
