/**
 * The layer rule as the linter enforces it (eslint.config.js): each case lints one import line as if
 * it were written in a file at that path, without type information (the import rules need none).
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({
  cwd: new URL('../../..', import.meta.url).pathname,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
      '@typescript-eslint/await-thenable': 'off',
    },
  },
});

/** The no-restricted-imports / no-restricted-syntax messages for `code` in a file at `path`. */
async function problems(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\n`, { filePath: path });
  return result!.messages.map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('layers depend downward only', () => {
  it.each([
    ['src/core/api/api.ts', "import { Dataset } from '../../data/index.js';", 'src/core may not import store, data, features, train, serve, platform, cli, dashboard'],
    ['src/data/dataset/dataset.ts', "import { Pipeline } from '../../features/index.js';", 'src/data may not import features'],
    ['src/features/scalers.ts', "import { ALS } from '../train/index.js';", 'src/features may not import train'],
    ['src/train/als/als.ts', "import { Pipeline } from '../../features/index.js';", 'src/train may not import features'],
    ['src/store/artifacts.ts', "import { col } from '../data/index.js';", 'src/store may not import data'],
    ['src/serve/deployment.ts', "import { pipeline } from '../platform/index.js';", 'src/serve may not import platform'],
    ['src/platform/pipeline.ts', "import { main } from '../cli/index.js';", 'src/platform may not import cli, dashboard'],
    ['src/dashboard/server.ts', "import { main } from '../cli/index.js';", 'src/dashboard may not import cli'],
  ])('%s: %s', async (path, code, message) => {
    expect((await problems(path, code)).join('\n')).toContain(message);
  });

  it.each([
    ['src/data/dataset/dataset.ts', "import { get } from '../../core/index.js';"],
    ['src/features/scalers.ts', "import { agg } from '../data/index.js';"],
    ['src/train/als/als.ts', "import { put } from '../../core/index.js';"],
    ['src/store/artifacts.ts', "import { ShoalError } from '../core/index.js';"],
    ['src/train/als/als.ts', "import { Registry } from '../../store/index.js';"],
    ['src/serve/deployment.ts', "import { ALS } from '../train/index.js';"],
    ['src/platform/pipeline.ts', "import { Deployment } from '../serve/index.js';"],
    ['src/cli/commands/up.ts', "import { Head } from '../../core/index.js';"],
    // cli is the composition root: it wires the dashboard into the heads it starts.
    ['src/cli/commands/start.ts', "import { DASHBOARD_EXTENSION } from '../../dashboard/index.js';"],
    ['src/data/expr/window.ts', "import { col } from './expr.js';"],
  ])('%s may write %s', async (path, code) => {
    expect(await problems(path, code)).toEqual([]);
  });
});

describe("another layer's internals are off limits", () => {
  it.each([
    ['src/features/columns.ts', "import { takeTable } from '../data/kernels/take.js';"],
    ['src/train/tfjs/trainer.ts', "import { HeadClient } from '../../core/wire/head-client.js';"],
    ['src/cli/commands/up.ts', "import { Head } from '../../core/head/head.js';"],
    ['src/index.ts', "export { Dataset } from './data/dataset/dataset.js';"],
  ])('%s: %s', async (path, code) => {
    expect((await problems(path, code)).join('\n')).toMatch(/through its index\.ts only/);
  });

  it('entry points and layer indexes name what they re-export', async () => {
    expect(await problems('src/data.ts', "export * from './data/index.js';")).toEqual([expect.stringMatching(/re-export by name .* not export \*/)]);
    expect(await problems('src/train/index.ts', "export * from './als/als.js';")).toEqual([expect.stringMatching(/not export \*/)]);
  });
});

describe('tests, benchmarks and examples use the package surface', () => {
  it.each([
    ['test/integration/data/file-io.test.ts', "import { readFooterStats } from '../../../src/data/io/parquet-footer.js';"],
    ['test/fixtures/core/tasks.ts', "import { remote } from '../../../src/core/index.js';"],
    ['bench/suites/data.ts', "import { hashJoin } from '../../src/data/kernels/hash-join.js';"],
    ['examples/rental-recs/job.ts', "import { ALS } from '../../dist/src/train/index.js';"],
  ])('%s: %s', async (path, code) => {
    expect((await problems(path, code)).join('\n')).toContain("import shoal through its entry points: 'shoal', 'shoal/data', 'shoal/features', 'shoal/train', 'shoal/serve'");
  });

  it.each([
    ['test/integration/data/window.test.ts', "import { agg, window } from 'shoal/data';"],
    ['examples/tune-als/main.ts', "import { tune } from 'shoal/train';"],
    ['test/unit/data/kernels/kernels.test.ts', "import { hashJoin } from '../../../../src/data/kernels/hash-join.js';"],
    ['test/harness/test-cluster.ts', "import { startLocalCluster } from '../../src/core/index.js';"],
  ])('%s may write %s', async (path, code) => {
    expect(await problems(path, code)).toEqual([]);
  });
});
