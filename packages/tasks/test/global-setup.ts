// Builds dist before the suite when it is missing or older than the sources:
// worker threads and child processes load the built package (they cannot load
// TypeScript). The file connector, used by the cross-process fixtures, is
// built the same way. Up-to-date builds are left alone, so suites running in
// parallel never see a half-written dist.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Builds the package at `root` unless its dist is newer than its sources. */
export function buildIfStale(root: string): void {
  let built = 0;
  try {
    built = statSync(join(root, 'dist', 'index.js')).mtimeMs;
  } catch {
    // not built yet
  }
  const sources = Math.max(newest(join(root, 'src')), statSync(join(root, 'tsconfig.build.json')).mtimeMs);
  if (built >= sources) return;
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}

export default function setup(): void {
  buildIfStale(fileURLToPath(new URL('..', import.meta.url)));
}
