// Bundles the dashboard's front end (src/dashboard/ui, Preact + uPlot) into
// dist/src/dashboard/assets/app.js and app.css with esbuild: everything ships in the package, no CDN.
// Every file under ui/pages exports `page` (ui/page.ts); the module `shoal-dashboard:pages` made here
// lists them all, so adding a page is adding its file.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pagesDir = join(root, 'src/dashboard/ui/pages');

const pagesPlugin = {
  name: 'shoal-dashboard-pages',
  setup(b) {
    b.onResolve({ filter: /^shoal-dashboard:pages$/ }, () => ({ path: 'pages', namespace: 'shoal-dashboard' }));
    b.onLoad({ filter: /.*/, namespace: 'shoal-dashboard' }, () => {
      const files = readdirSync(pagesDir).filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts')).sort();
      const lines = files.map((f, i) => `import { page as p${i} } from ${JSON.stringify(join(pagesDir, f))};`);
      const list = files.map((_, i) => `p${i}`).join(', ');
      lines.push(`export const PAGES = [${list}].filter(Boolean).sort((a, b) => (a.order ?? 100) - (b.order ?? 100));`);
      return { contents: lines.join('\n'), loader: 'js', resolveDir: pagesDir, watchDirs: [pagesDir] };
    });
  },
};

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
  plugins: [pagesPlugin],
});
