#!/usr/bin/env node
// Type-checks the TypeScript code blocks of every package README (and the
// root README), so the examples cannot rot. Each ```ts block is compiled as a
// module inside its package (so it imports the package by its own name and its
// dependencies as a user would, against the built dist types). A block may be
// preceded by a hidden prelude that declares what the example takes as given:
//
//   <!-- typecheck-prelude
//   declare function pay(order: Order): Promise<string>;
//   -->
//   ```ts
//   …
//
// `<!-- typecheck-prelude in=packages/executor` compiles the block inside
// another package (for an example that uses packages its own does not depend on).
// Run by the README's test command after set-up; exits 1 with each error
// mapped back to README:line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readmes = [
  ...readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name)),
  join(root, 'packages', 'executor'), // the root README's example is an executor example
].filter((dir, i, all) => all.indexOf(dir) === i && existsSync(join(dir, 'README.md')));

const OUT = '.readme-check';
/** Generated file → { readme, firstLine (README line of the block's first code line), preludeLines }. */
const origins = new Map();
const files = [];

function extract(readmePath, hostDir) {
  const lines = readFileSync(readmePath, 'utf8').split('\n');
  let prelude = [];
  let host = hostDir;
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('<!-- typecheck-prelude')) {
      prelude = [];
      const inside = /\bin=(\S+)/.exec(line)?.[1];
      host = inside ? join(root, inside) : hostDir;
      for (i++; i < lines.length && !lines[i].startsWith('-->'); i++) prelude.push(lines[i]);
      continue;
    }
    if (/^```(ts|typescript)\s*$/.test(line)) {
      const body = [];
      const first = i + 2; // 1-based line of the first code line
      for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
      const name = `${relative(root, readmePath).replace(/[/.]/g, '_')}-${++n}.ts`;
      const file = join(host, OUT, name);
      mkdirSync(dirname(file), { recursive: true });
      // `export {}` keeps a block without imports a module (top-level await, no global clashes).
      writeFileSync(file, [...prelude, ...body, 'export {};', ''].join('\n'));
      origins.set(file, { readme: relative(root, readmePath), firstLine: first, preludeLines: prelude.length });
      files.push(file);
      prelude = [];
      host = hostDir;
    } else if (line.trim() !== '') {
      prelude = []; // a prelude belongs to the block right after it (only blank lines between)
      host = hostDir;
    }
  }
}

for (const dir of readmes) rmSync(join(dir, OUT), { recursive: true, force: true });
for (const dir of readmes) extract(join(dir, 'README.md'), dir);
extract(join(root, 'README.md'), join(root, 'packages', 'executor'));

const config = join(root, OUT, 'tsconfig.json');
mkdirSync(dirname(config), { recursive: true });
writeFileSync(
  config,
  JSON.stringify(
    {
      extends: '../tsconfig.base.json',
      compilerOptions: { noEmit: true, declaration: false, declarationMap: false, sourceMap: false, },
      files,
    },
    null,
    2,
  ),
);
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', config, '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
const output = `${result.stdout}${result.stderr}`;
let errors = 0;
for (const line of output.split('\n')) {
  const match = /^(.*\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
  if (!match) {
    if (line.trim()) console.error(line);
    continue;
  }
  const origin = origins.get(join(root, match[1])) ?? origins.get(match[1]);
  errors++;
  if (!origin) {
    console.error(line);
    continue;
  }
  const at = Number(match[2]) - origin.preludeLines;
  const where = at >= 1 ? `${origin.readme}:${origin.firstLine + at - 1}` : `${origin.readme} (prelude of the block at line ${origin.firstLine - 1})`;
  console.error(`${where}:${match[3]} ${match[4]}`);
}
if (result.status !== 0 || errors > 0) {
  console.error(`\nREADME examples: ${errors} type error(s) in ${files.length} code blocks`);
  process.exit(1);
}
console.log(`README examples: ${files.length} code blocks type-check`);
