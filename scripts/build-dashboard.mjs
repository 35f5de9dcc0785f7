// Bundles the dashboard's front end (src/dashboard/ui, Preact + uPlot) into
// dist/src/dashboard/assets/app.js and app.css with esbuild: everything ships in the package, no CDN.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: { app: join(root, 'src/dashboard/ui/main.tsx') },
  outdir: join(root, 'dist/src/dashboard/assets'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
