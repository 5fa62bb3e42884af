#!/usr/bin/env node
// The README's test command: set-up, the README examples' type check, then lint,
// typecheck, every test suite and the publishability check through turbo, then
// one closing line that counts the tests of every package (from each vitest JSON report).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const reports = [
  ...['packages', 'apps'].flatMap((group) =>
    readdirSync(join(root, group)).map((name) => join(root, group, name, '.vitest-report.json')),
  ),
  // The examples' runs and the docs' checks (the API reference build runs before them).
  join(root, 'examples', '.vitest-report.json'),
  join(root, 'docs', '.vitest-report.json'),
];
for (const report of reports) rmSync(report, { force: true });

const node = (script, args) => spawnSync(process.execPath, [join(root, 'scripts', script), ...args], { cwd: root, stdio: 'inherit' });
const setup = node('setup.mjs', []);
if (setup.status !== 0) process.exit(setup.status ?? 1);
// Every package README's TypeScript examples type-check against the built packages.
const readmes = node('check-readmes.mjs', []);
// --continue: one failing package does not hide the others' results. --concurrency 3: the
// service-backed suites (brokers, SIGKILL pipelines) time themselves; two cores shared by ten
// test processes at once made them wait on the CPU, not on the code under test (3: with the
// flow-control and schedule suites added, 4 at once starved CPU-bound examples of their timeouts).
const run = node('pnpm.mjs', [
  'exec',
  'turbo',
  'run',
  'lint',
  'typecheck',
  'test',
  'publint',
  '--output-logs=errors-only',
  '--continue',
  '--concurrency=3',
]);

let passed = 0;
let failed = 0;
let skipped = 0;
let files = 0;
for (const report of reports) {
  if (!existsSync(report)) continue;
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed += json.numPassedTests ?? 0;
  failed += json.numFailedTests ?? 0;
  skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  files++;
}
console.log(`\n${files} packages reported tests`);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(run.status === 0 && readmes.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
