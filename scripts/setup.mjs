#!/usr/bin/env node
// One-time set-up for a fresh clone: dependencies (including better-sqlite3's
// native build) and a build of every package. Safe to run again; turbo caches.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pnpm = join(root, 'scripts', 'pnpm.mjs');

function run(args) {
  const result = spawnSync(process.execPath, [pnpm, ...args], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\nergon setup: 'pnpm ${args.join(' ')}' failed (exit ${result.status}).`);
    process.exit(result.status ?? 1);
  }
}

run(['install', '--frozen-lockfile', '--prefer-offline']);
run(['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']);
