#!/usr/bin/env node
// Runs the pnpm version pinned in package.json's `packageManager`, so a machine
// with only Node.js and npm needs nothing installed by hand. corepack is not
// used: its signature check fails on some machines.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { packageManager } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = packageManager.replace(/^pnpm@/, '');

function installedVersion() {
  try {
    return execFileSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

const args = process.argv.slice(2);
const [command, commandArgs] =
  installedVersion() === version ? ['pnpm', args] : ['npx', ['--yes', `pnpm@${version}`, ...args]];
const result = spawnSync(command, commandArgs, { cwd: process.cwd(), stdio: 'inherit', env: process.env });
process.exit(result.status ?? 1);
