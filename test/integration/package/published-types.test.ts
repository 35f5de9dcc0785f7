/**
 * The published declarations (dist/**\/*.d.ts) compile in a consumer's project with
 * `skipLibCheck: false`, through every entry point, with what `npm install shoal` gives the consumer:
 * shoal's dependencies, not its devDependencies (no @types/pg) and not its optional peers (no
 * TensorFlow.js), and no DOM lib. The consumer's node_modules links only those packages, and
 * `preserveSymlinks` makes every import resolve from there, as in a real install.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
let consumer: string | undefined;

/** Links what an install of the package would hold: shoal (package.json, dist/src) and every locked package that is not dev-only. */
function makeConsumer(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-consumer-'));
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, 'shoal', 'dist'), { recursive: true });
  symlinkSync(join(REPO, 'package.json'), join(modules, 'shoal', 'package.json'));
  symlinkSync(join(REPO, 'dist', 'src'), join(modules, 'shoal', 'dist', 'src'));
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; peer?: boolean }> };
  for (const [path, meta] of Object.entries(lock.packages)) {
    // Hoisted packages only: nested ones live inside their parent's folder, which is linked whole.
    if (!/^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) || meta.dev === true || meta.peer === true) continue;
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    symlinkSync(join(REPO, path), join(dir, path));
  }
  // The consumer's own type packages: Node's (a dependency of shoal's dependencies already brings it).
  if (!existsSync(join(modules, '@types', 'node'))) {
    mkdirSync(join(modules, '@types'), { recursive: true });
    symlinkSync(join(REPO, 'node_modules', '@types', 'node'), join(modules, '@types', 'node'));
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  return dir;
}

/** One consumer file per entry point, type-checked together by one tsc run. */
const SOURCES: Record<string, string> = {
  'core.ts': `
    import { actor, get, init, put, remote, shutdown, TaskError, type ObjectRef, type InitOptions } from 'shoal';
    export const square = remote(function square(x: number) { return x * x; });
    export class Counter { n = 0; add(k: number) { return (this.n += k); } }
    export const CounterActor = actor(Counter);
    const options: InitOptions = {};
    await init(options);
    const ref: ObjectRef<number> = square.remote(3);
    const n: number = await get(ref);
    const c = CounterActor.remote();
    const total: number = await get(c.add.remote(n));
    put(new Float64Array(4));
    const failed = await get(square.remote(-1)).catch((err: unknown) => err instanceof TaskError);
    console.log(total, failed);
    await shutdown();
  `,
  'data.ts': `
    import { agg, col, fromRows, readCsv, readPostgres, rowNumber, window, UnknownColumnError, type Dataset, type WritePostgresOptions } from 'shoal/data';
    const ds: Dataset = fromRows([{ room: 'a', price: 1 }]).filter(col('price').gt(0));
    const byRoom = ds.groupBy('room').agg(agg.count(), agg.mean('price', 'avg')).sort(col('avg').descNullsLast(), 'room');
    const text: string = await byRoom.showString(5);
    const shown: void = await byRoom.show();
    const ranked = ds.withColumn('rn', rowNumber().over(window().partitionBy('room').orderBy(col('price').desc())))
      .withColumn('room_max', agg.max('price').over(window().partitionBy('room')));
    const target: WritePostgresOptions = { url: 'postgres://x', table: 't', mode: 'upsert', keyColumns: ['room'] };
    console.log(byRoom, text, shown, ranked, target, readCsv('x.csv'), readPostgres({ url: 'postgres://x', table: 't' }), UnknownColumnError.name);
  `,
  'features.ts': `
    import { fromRows } from 'shoal/data';
    import { Imputer, Pipeline, PipelineModel, StandardScaler, type FeatureRow } from 'shoal/features';
    const model: PipelineModel = await new Pipeline([new Imputer({ inputCols: ['p'] }), new StandardScaler({ inputCols: ['p'], outputCols: ['z'] })]).fit(fromRows([{ p: 1 }]));
    const row: FeatureRow | null = model.transformRow({ p: 2 });
    console.log(row);
  `,
  'train.ts': `
    import { ALS, NeuralRecommender, Trainer, buildTwoTowerModel, tune, grid, TfjsNotInstalledError, type TwoTowerBuilder, type TrainerOptions } from 'shoal/train';
    const model = await new ALS({ rank: 4, implicitPrefs: true }).fit([{ user: 1, item: 2, rating: 1 }]);
    const builder: TwoTowerBuilder = (tf, spec) => buildTwoTowerModel(tf, spec);
    const rec = new NeuralRecommender({ buildModel: builder });
    const options: Partial<TrainerOptions> = { epochs: 1 };
    console.log(model, rec, options, Trainer.name, tune, grid([1, 2]), TfjsNotInstalledError.name);
  `,
  'store.ts': `
    import { openStore, openRun, withActiveRun, ModelNotFoundError, type Run, type RunRef, type StoredModel, type RunInfo } from 'shoal/store';
    const store = await openStore({ url: '/tmp/x.db' });
    const run: Run = await store.startRun({ experiment: 'e', params: { rank: 4 } });
    run.logMetric('loss', 1, 0);
    const ref: RunRef = run.ref();
    const uri: string = await run.logModel('model', { flavor: 'f', tensors: { w: new Float32Array(2) } });
    const model: StoredModel = await store.loadModel(uri);
    const runs: RunInfo[] = await withActiveRun(run, () => store.searchRuns({ filter: 'metrics.loss < 2' }));
    console.log(ref, model.tensors.w, runs, openRun, ModelNotFoundError.name);
  `,
};

/** Type-checks the consumer's files; tsc's diagnostics, one per line (none when it compiles). */
function typeCheck(consumer: string): Promise<string[]> {
  for (const [name, source] of Object.entries(SOURCES)) writeFileSync(join(consumer, name), source);
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: ['node'], typeRoots: [join(consumer, 'node_modules', '@types')],
      strict: true, skipLibCheck: false, preserveSymlinks: true, noEmit: true,
    },
    files: Object.keys(SOURCES),
  }));
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer, '--pretty', 'false'], { cwd: consumer }, (_err, stdout, stderr) => {
      resolve(`${stdout}${stderr}`.split('\n').filter((l) => /error TS\d+/.test(l)));
    });
  });
}

let diagnostics: string[] = [];
beforeAll(async () => {
  consumer = makeConsumer();
  diagnostics = await typeCheck(consumer);
}, 300_000);
afterAll(() => {
  if (consumer !== undefined) rmSync(consumer, { recursive: true, force: true });
});

describe('published declarations under skipLibCheck: false, installed without devDependencies or optional peers', () => {
  it.each(Object.keys(SOURCES))('a consumer compiles: %s', (file) => {
    expect(diagnostics.filter((d) => d.startsWith(file))).toEqual([]);
  });

  it("shoal's declaration files have no errors (no pg types without @types/pg, no TensorFlow.js typings, no DOM)", () => {
    expect(diagnostics).toEqual([]);
  });
});
