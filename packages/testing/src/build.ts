/**
 * Imported from `@ergon/testing/build` (no vitest API, so global setups can use it).
 * For suites whose worker threads or child processes load a package's built
 * `dist` (they cannot load TypeScript): build it first when it is stale.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * Builds the package at `root` (`tsc -p tsconfig.build.json`, with the
 * TypeScript that package resolves) unless its `dist/index.js` is newer than
 * its sources. An up-to-date build is left alone, so suites running in
 * parallel never see a half-written dist.
 */
export function buildIfStale(root: string): void {
  let built = 0;
  try {
    built = statSync(join(root, 'dist', 'index.js')).mtimeMs;
  } catch {
    // not built yet
  }
  const sources = Math.max(newest(join(root, 'src')), statSync(join(root, 'tsconfig.build.json')).mtimeMs);
  if (built >= sources) return;
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
