// The README's examples are the files in test/examples/, which the package's
// typecheck compiles: the README shows code that type-checks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('README', () => {
  it('shows the type-checked examples verbatim', () => {
    const readme = read('../README.md');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toEqual([read('./examples/node-server.ts'), read('./examples/hono-app.ts')]);
  });
});
