#!/usr/bin/env node
// The README's test command: set-up, the README examples' type check, then lint,
// typecheck, every test suite and the publishability check through turbo, then
// one closing line that counts the tests of every package (from each vitest JSON report).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Each package's vitest JSON reports: `.vitest-report.json`, or one per group of projects run
// at once (`.vitest-report-<n>.json`, scripts/vitest-groups.mjs).
const reportDirs = [
  ...['packages', 'apps'].flatMap((group) =>
    readdirSync(join(root, group)).map((name) => join(root, group, name)),
  ),
  // The examples' runs and the docs' checks (the API reference build runs before them).
  join(root, 'examples'),
  join(root, 'docs'),
];
const findReports = () =>
  reportDirs.flatMap((dir) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((name) => /^\.vitest-report(-\d+)?\.json$/.test(name))
          .map((name) => join(dir, name))
      : [],
  );
const reports = findReports();
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
  // Writes .turbo/runs/<id>.json: each task's start and end, for the slowest-tasks lines below.
  '--summarize',
]);

let passed = 0;
let failed = 0;
let skipped = 0;
const packages = new Set();
for (const report of findReports()) {
  packages.add(dirname(report));
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed += json.numPassedTests ?? 0;
  failed += json.numFailedTests ?? 0;
  skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
}
printSlowest(8);
console.log(`\n${packages.size} packages reported tests`);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(run.status === 0 && readmes.status === 0 && failed === 0 && passed > 0 ? 0 : 1);

/** Prints the `count` longest tasks of the newest turbo run summary (where the test command's time goes). */
function printSlowest(count) {
  const dir = join(root, '.turbo', 'runs');
  if (!existsSync(dir)) return;
  const newest = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!newest) return;
  const tasks = (JSON.parse(readFileSync(newest, 'utf8')).tasks ?? [])
    .map((task) => ({ id: task.taskId, ms: (task.execution?.endTime ?? 0) - (task.execution?.startTime ?? 0) }))
    .filter((task) => task.ms > 0)
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count);
  console.log('\nSlowest tasks:');
  for (const task of tasks) console.log(`  ${(task.ms / 1000).toFixed(0).padStart(5)} s  ${task.id}`);
}
