// The dashboard serves its page from dist/client/ (bundled by esbuild at
// build time); the suites run the sources against that bundle, so bundle it
// first when it is missing or older than the page's sources.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

export default function setup(): void {
  const bundle = join(root, 'dist', 'client', 'app.js');
  const sources = newest(join(root, 'src', 'client'));
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= sources) return;
  execFileSync(process.execPath, [join(root, 'src', 'client', 'bundle.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
}
