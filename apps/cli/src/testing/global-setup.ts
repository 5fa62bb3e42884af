// Vitest global set-up: the suites run the real `ergon` binary, so build it
// first when any source is newer than dist/bin.js (turbo has usually built it
// already), and check that the demo is built (its dist is used as is).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BIN, CLI_DIR, DEMO_DIST } from './cli.js';

export default function setup(): void {
  if (needsBuild()) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: CLI_DIR, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`building the CLI failed:\n${run.stdout}${run.stderr}`);
  }
  if (!existsSync(join(DEMO_DIST, 'main.js'))) {
    throw new Error(
      `the demo is not built (${DEMO_DIST}): run \`turbo run build --filter @ergon/demo\` first`,
    );
  }
}

function needsBuild(): boolean {
  if (!existsSync(BIN)) return true;
  const built = statSync(BIN).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name !== 'testing' && newer(path);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && statSync(path).mtimeMs > built;
    });
  return newer(join(CLI_DIR, 'src'));
}
