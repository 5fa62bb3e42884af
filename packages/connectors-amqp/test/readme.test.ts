// The README's example is test/readme-example.ts (type-checked with the
// package's tests), with the package's own import written as users write it.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

describe('README', () => {
  it('shows the type-checked example, word for word', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const example = await readFile(new URL('./readme-example.ts', import.meta.url), 'utf8');
    const block = /## Example\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(example.replace("from '../src/index.js'", "from '@ergon/connectors-amqp'"));
  });
});
