#!/usr/bin/env node
// `npm run example -- <name> [args]`: builds one example of examples/ (turbo,
// cached; `--only`: the packages it uses were built by `npm run setup`, and
// `npm run build` rebuilds them after a change) and runs it from its folder.
// Run `npm run setup` once on a fresh clone first. Without a name, lists them.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const examples = readdirSync(join(root, 'examples'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'examples', d.name, 'src', 'main.ts')))
  .map((d) => d.name)
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || !examples.includes(name)) {
  if (name) console.error(`no example named ${JSON.stringify(name)}`);
  console.error(`usage: npm run example -- <name> [args]\nexamples: ${examples.join(', ')}`);
  process.exit(name ? 1 : 0);
}
if (!existsSync(join(root, 'node_modules'))) {
  console.error('run `npm run setup` first (it installs the dependencies and builds every package)');
  process.exit(1);
}
const build = spawnSync(
  process.execPath,
  [
    join(root, 'scripts', 'pnpm.mjs'),
    'exec',
    'turbo',
    'run',
    'build',
    `--filter=@ergon/example-${name}`,
    '--only',
    '--output-logs=errors-only',
  ],
  { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
);
if (build.status !== 0) process.exit(build.status ?? 1);
const dir = join(root, 'examples', name);
const run = spawnSync(process.execPath, ['dist/main.js', ...args], { cwd: dir, stdio: 'inherit' });
process.exit(run.status ?? 1);
