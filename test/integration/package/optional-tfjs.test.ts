/**
 * What importing each entry point loads, in a fresh Node process on the built package: `shoal` (for
 * tasks alone) loads none of the data, features or train layers and no TensorFlow.js; `shoal/train`
 * loads TensorFlow.js only when training starts; and without the optional peer dependencies
 * (@tensorflow/tfjs, @tensorflow/tfjs-backend-wasm) training fails with a typed error that names them
 * while everything else works.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/package/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'shoal-entry-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let runs = 0;

/** Runs an ES module script in a new Node process (cwd: the repository); the modules it loaded and its stdout. */
async function runScript(script: string, hooks: readonly string[] = []): Promise<{ loaded: string[]; stdout: string }> {
  const log = join(scratch, `imports-${++runs}.log`);
  const args = [...['log-imports.mjs', ...hooks].flatMap((h) => ['--import', join(FIXTURES, h)]), '--input-type=module', '-e', script];
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, args, { cwd: REPO, env: { ...process.env, SHOAL_TEST_IMPORT_LOG: log } }, (err, out, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(out);
    });
  });
  const loaded = readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
  return { loaded, stdout };
}

const tfjs = (urls: readonly string[]): string[] => urls.filter((u) => u.includes('/node_modules/@tensorflow/'));
const layer = (urls: readonly string[], name: string): string[] => urls.filter((u) => u.includes(`/dist/src/${name}/`));

describe('import cost of each entry point', () => {
  it("import 'shoal' loads the core layer only: no data, features or train module, no TensorFlow.js", async () => {
    const { loaded } = await runScript("const m = await import('shoal'); if (typeof m.init !== 'function') throw new Error('no init');");
    expect(layer(loaded, 'core').length).toBeGreaterThan(10);
    for (const name of ['data', 'features', 'train', 'cli']) expect(layer(loaded, name), name).toEqual([]);
    expect(tfjs(loaded)).toEqual([]);
  });

  it("import 'shoal/train' loads no TensorFlow.js until training starts", async () => {
    const { loaded } = await runScript("const m = await import('shoal/train'); if (typeof m.Trainer !== 'function') throw new Error('no Trainer');");
    expect(layer(loaded, 'train').length).toBeGreaterThan(10);
    expect(tfjs(loaded)).toEqual([]);
  });
});

describe('without the optional TensorFlow.js peer dependencies', () => {
  /** A script that runs `call` (an expression giving a promise) and prints its error's name, code, packages and message. */
  const expectFailure = (call: string): string => `
    import { tableFromArrays } from 'apache-arrow';
    import { Trainer, trainLocal, TfjsNotInstalledError } from 'shoal/train';
    const dataset = tableFromArrays({ a: new Float32Array([1, 2, 3, 4]), y: new Float32Array([2, 4, 6, 8]) });
    const options = { model: '{}', dataset, featureColumns: ['a'], labelColumns: ['y'], batchSize: 2, epochs: 1, numWorkers: 1 };
    try {
      await ${call};
      console.log(JSON.stringify({ ok: true }));
    } catch (err) {
      console.log(JSON.stringify({ name: err.name, code: err.code, packages: err.packages, message: err.message, typed: err instanceof TfjsNotInstalledError }));
    }`;

  it.each([
    ['trainLocal', 'trainLocal(options)'],
    ['Trainer.fit (before any cluster is needed)', 'new Trainer(options).fit()'],
  ])('%s fails with TfjsNotInstalledError naming the packages to install', async (_what, call) => {
    const { stdout, loaded } = await runScript(expectFailure(call), ['hide-tfjs.mjs']);
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out).toMatchObject({ name: 'TfjsNotInstalledError', code: 'TRAIN_TFJS_NOT_INSTALLED', typed: true, packages: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'] });
    expect(out.message).toBe(
      'training and inference with TensorFlow.js need the optional peer dependencies @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm, which are not installed: npm install @tensorflow/tfjs@^4.22.0 @tensorflow/tfjs-backend-wasm@^4.22.0',
    );
    expect(tfjs(loaded)).toEqual([]);
  });

  it('the core runtime and the data layer need none of them', async () => {
    const { stdout } = await runScript(
      `import { init, shutdown, remote, get } from 'shoal';
       import { fromRows, agg } from 'shoal/data';
       await init({ numCpus: 1 });
       try {
         const rows = await fromRows([{ k: 'a', x: 1 }, { k: 'a', x: 2 }, { k: 'b', x: 5 }]).groupBy('k').agg(agg.sum('x', 's')).sort('k').take(10);
         console.log(JSON.stringify(rows));
       } finally {
         await shutdown();
       }`,
      ['hide-tfjs.mjs'],
    );
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual([{ k: 'a', s: 3 }, { k: 'b', s: 5 }]);
  });
});
