// Lint with type information; no-floating-promises matters most in async distributed code.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/core/generated/**', '.scratch/**', 'bench/results/**', 'coverage/**', '**/*.js', '**/*.mjs', 'vitest.config.ts'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-import-type-side-effects': 'error',
      'no-restricted-imports': ['error', {
        patterns: [{
          group: ['**/core/*', '!**/core/index.js', '**/data/*', '!**/data/index.js', '**/features/*', '!**/features/index.js',
            '**/train/*', '!**/train/index.js', '**/serve/*', '!**/serve/index.js', '**/platform/*', '!**/platform/index.js'],
          message: 'import a layer through its index.ts only',
        }],
      }],
    },
  },
  {
    // Inside a layer, files import each other directly; tests of internals may too.
    files: ['src/core/**', 'src/data/**', 'src/features/**', 'src/train/**', 'src/serve/**', 'src/platform/**', 'test/unit/**', 'test/harness/**', 'bench/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
