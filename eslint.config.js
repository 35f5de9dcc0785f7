// Lint with type information; no-floating-promises matters most in async distributed code.
//
// The layer rule of the architecture, checked here rather than by goodwill: dependencies point down only,
//   cli, dashboard → platform → serve → train, features → data → core,
// with `store` on core alone and usable by every layer above core. A layer imports another only
// through its index.ts (its public surface), never a file inside it. Layers that do not exist yet
// (store, serve, platform, dashboard) are listed so they start under the rule.
import tseslint from 'typescript-eslint';

const LAYERS = ['core', 'store', 'data', 'features', 'train', 'serve', 'platform', 'cli', 'dashboard'];
const ORDER = 'cli, dashboard → platform → serve → train, features → data → core; store on core alone';

/** Import patterns of a file inside layer `layer`: nothing of `mayNotImport`, the others through their index.ts only. */
function layerImports(layer, mayNotImport) {
  const others = LAYERS.filter((l) => l !== layer && !mayNotImport.includes(l));
  const patterns = [];
  if (mayNotImport.length > 0) {
    patterns.push({
      group: mayNotImport.map((l) => `**/${l}/**`),
      message: `src/${layer} may not import ${mayNotImport.join(', ')} (layers depend downward only: ${ORDER})`,
    });
  }
  if (others.length > 0) {
    patterns.push({
      group: others.flatMap((l) => [`**/${l}/*`, `!**/${l}/index.js`]),
      message: 'import another layer through its index.ts only, not a file inside it',
    });
  }
  return { files: [`src/${layer}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/core/wire/generated/**', '.scratch/**', 'bench/results/**', 'coverage/**', '.stryker-tmp/**', 'reports/**', '**/*.js', '**/*.mjs', 'vitest.config.ts'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-import-type-side-effects': 'error',
    },
  },

  // One block per layer: what it may not import.
  layerImports('core', ['store', 'data', 'features', 'train', 'serve', 'platform', 'cli', 'dashboard']),
  layerImports('store', ['data', 'features', 'train', 'serve', 'platform', 'cli', 'dashboard']),
  layerImports('data', ['features', 'train', 'serve', 'platform', 'cli', 'dashboard']),
  layerImports('features', ['train', 'serve', 'platform', 'cli', 'dashboard']),
  layerImports('train', ['features', 'serve', 'platform', 'cli', 'dashboard']),
  layerImports('serve', ['platform', 'cli', 'dashboard']),
  layerImports('platform', ['cli', 'dashboard']),
  // cli wires the dashboard into the heads it starts and serves its history: it may import it (by its index).
  layerImports('cli', []),
  layerImports('dashboard', ['cli']),
  {
    // The dashboard's front end runs in the browser: it imports no layer (the API's types only).
    files: ['src/dashboard/ui/**/*.ts', 'src/dashboard/ui/**/*.tsx'],
    languageOptions: { parserOptions: { projectService: false, project: './src/dashboard/ui/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: LAYERS.map((l) => `**/${l}/**`).concat(['node:*']), message: 'the dashboard front end runs in the browser: it imports preact, uplot and ../api-types.js only' }] }],
    },
  },

  {
    // The package's entry points (src/index.ts → `shoal`, src/data.ts → `shoal/data`, ...) re-export
    // layers through their index.ts, by name: what a subpath exports is read in one place.
    files: ['src/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: LAYERS.flatMap((l) => [`**/${l}/*`, `!**/${l}/index.js`]), message: 'an entry point re-exports a layer through its index.ts only' }] }],
    },
  },
  {
    files: ['src/*.ts', 'src/*/index.ts'],
    rules: { 'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'entry points and layer indexes re-export by name (export { a, b } from ...), not export *' }] },
  },
  {
    // Users' view: tests of the system, their fixtures (shipped to workers as job code), benchmarks and
    // examples use shoal through its package entry points only. Tests of internals (test/unit,
    // test/harness) import src/<layer>/... directly.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts'],
    ignores: ['test/unit/**', 'test/harness/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/src/**', '**/dist/**'], message: "import shoal through its entry points: 'shoal', 'shoal/data', 'shoal/features', 'shoal/train', 'shoal/serve'" }],
      }],
    },
  },
);
