#!/usr/bin/env node
// Runs a package's vitest projects as several vitest processes at once, one per group
// (`vitest-groups.mjs memory,sqlite,types redis postgres`): suites that mostly wait (leases,
// timers, servers) overlap instead of queueing in one process. Each group writes its own JSON
// report (.vitest-report-<n>.json), which scripts/test.mjs counts. Exits non-zero when any failed.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const groups = process.argv.slice(2).map((group) => group.split(',').filter(Boolean));
if (groups.length === 0 || groups.some((group) => group.length === 0)) {
  console.error('usage: vitest-groups.mjs <project,project...> [<project,...> ...]');
  process.exit(2);
}
// The package's own vitest, started directly (npx would start npm first, once per group).
const vitest = createRequire(join(process.cwd(), 'package.json')).resolve('vitest/vitest.mjs');
const runs = groups.map(
  (projects, index) =>
    new Promise((resolve) => {
      const args = [
        vitest,
        'run',
        ...projects.flatMap((project) => ['--project', project]),
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=.vitest-report-${index}.json`,
      ];
      const child = spawn(process.execPath, args, { stdio: 'inherit', env: process.env });
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
      child.on('error', () => resolve(1));
    }),
);
const codes = await Promise.all(runs);
process.exit(codes.every((code) => code === 0) ? 0 : 1);
