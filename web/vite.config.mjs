// The dashboard's bundle (docs/dashboard.md, docs/decisions/0013-dashboard.md): `npm run build`
// runs `vite build --config web/vite.config.mjs` after tsc, writing dist/web/ (index.html and
// hashed assets), which the API server serves at `/`. JSX is compiled by Vite's own transformer
// for Preact's automatic runtime, so no Babel preset is needed.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  // Relative asset URLs: the page works at `/` and behind a proxy under any path.
  base: './',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    // One page, a handful of chunks: report when the script grows past 200 kB.
    chunkSizeWarningLimit: 200,
    modulePreload: { polyfill: false },
  },
});
