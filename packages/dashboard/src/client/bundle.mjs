// Build step of @ergon/dashboard: bundles the page (main.ts with its CSS,
// uPlot's included) into dist/client/ with esbuild, and copies the favicon.
// Run by `pnpm build` after tsc; nothing is fetched at run time.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const out = here('../../dist/client/');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: here('./main.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(here('./favicon.svg'), `${out}favicon.svg`);
