#!/usr/bin/env node
// The README's test command: set-up, then every package's test suite, the README examples' type
// check, and every package's lint, typecheck and publishability check, three jobs at a time,
// then one closing line that counts the tests of every package (from each vitest JSON report).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPool } from './task-pool.mjs';

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
for (const report of findReports()) rmSync(report, { force: true });

/**
 * The suites that take longest, longest first (from the test command's "Slowest jobs" lines):
 * they start first, so none of them begins late and runs on alone at the end. Suites not listed
 * start after these and after the static checks.
 */
const LONGEST_FIRST = [
  'apps/integration-tests',
  'apps/cli',
  'packages/executor',
  'packages/connectors-s3',
  'packages/connectors-postgres',
  'apps/bench',
  'packages/dashboard',
  'packages/connectors-redis-streams',
  'packages/storage-redis',
  'packages/storage-postgres',
  'packages/connectors-nats',
  'packages/connectors-amqp',
  'packages/connectors-mqtt',
  'packages/tasks',
  'docs',
  'examples',
];
/** How many of LONGEST_FIRST start before the static checks (lint, typecheck, publint). */
const STATIC_CHECKS_AFTER = 3;

const setup = spawnSync(process.execPath, [join(root, 'scripts', 'setup.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (setup.status !== 0) process.exit(setup.status ?? 1);

const packageJson = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const bin = (dir) => join(dir, 'node_modules', '.bin');
/** A package's `test` script, run as pnpm runs it: its own and the root's bin folders on PATH. */
const testJob = (dir) => ({
  id: `${packageJson(dir).name} test`,
  command: packageJson(dir).scripts.test,
  cwd: dir,
  env: { ...process.env, PATH: [bin(dir), bin(root), process.env.PATH].join(delimiter) },
});
const rank = (dir) => {
  const at = LONGEST_FIRST.indexOf(relative(root, dir));
  return at === -1 ? LONGEST_FIRST.length : at;
};
const suites = reportDirs
  .filter((dir) => existsSync(join(dir, 'package.json')) && packageJson(dir).scripts?.test !== undefined)
  .sort((a, b) => rank(a) - rank(b))
  .map(testJob);
const node = `"${process.execPath}"`;
const staticChecks = [
  // Every package README's TypeScript examples type-check against the built packages.
  { id: 'README examples type-check', command: `${node} scripts/check-readmes.mjs`, cwd: root },
  // Every package's lint, typecheck and publint scripts, one process per tool (set-up built every
  // package, so the type checks read its declarations). Through pnpm: publint packs with it.
  {
    id: 'lint, typecheck, publint',
    command: `${node} scripts/pnpm.mjs exec node scripts/static-checks.mjs`,
    cwd: root,
  },
];
// Three at a time: the service-backed suites (brokers, SIGKILL pipelines) time themselves, and two
// cores shared by more test processes at once made them wait on the CPU, not on the code under test.
const results = await runPool(
  [...suites.slice(0, STATIC_CHECKS_AFTER), ...staticChecks, ...suites.slice(STATIC_CHECKS_AFTER)],
  3,
);

let passed = 0;
let failed = 0;
let skipped = 0;
const packages = new Set();
/** Each failed test, named with its file and its error's first line: kept for the closing lines. */
const failures = [];
for (const report of findReports()) {
  packages.add(dirname(report));
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed += json.numPassedTests ?? 0;
  failed += json.numFailedTests ?? 0;
  skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  for (const file of json.testResults ?? []) {
    for (const test of file.assertionResults ?? []) {
      if (test.status !== 'failed') continue;
      const message = (test.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 300);
      failures.push(`${relative(root, file.name)} > ${test.fullName}\n      ${message}`);
    }
  }
}
console.log('\nSlowest jobs:');
for (const { id, ms } of [...results].sort((a, b) => b.ms - a.ms).slice(0, 8)) {
  console.log(`  ${(ms / 1000).toFixed(0).padStart(5)} s  ${id}`);
}
const failedJobs = results.filter((result) => result.code !== 0).map((result) => result.id);
if (failedJobs.length > 0) console.log(`\nFailed: ${failedJobs.join(', ')}`);
// The jobs' own output can be cut by whoever shows the log: each failed test is named here again.
for (const failure of failures) console.log(`  ✗ ${failure}`);
console.log(`\n${packages.size} packages reported tests`);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failedJobs.length === 0 && failed === 0 && passed > 0 ? 0 : 1);
