// The README's pipeline example is test/readme-example.ts, word for word
// (typecheck covers it); here it runs against Redis on streams of its own.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { adminClient, REDIS_URL, redisAvailable } from './support.js';

const admin = adminClient();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('the README example', () => {
  it('is test/readme-example.ts, importing the package by name', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8').replace(
      "'../src/index.js'",
      "'@ergon/connectors-redis-streams'",
    );
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });

  it.runIf(redisAvailable)('runs: orders through durable flows, receipts on the next stream', async () => {
    const prefix = `ergon-test:rs-readme:${process.pid}-${Date.now()}`;
    const dir = await mkdtemp(join(tmpdir(), 'ergon-rs-readme-'));
    const keys = ['orders', 'receipts'].flatMap((s) => [`${prefix}:${s}`, `${prefix}:${s}:dead-letter`]);
    cleanups.push(
      () => admin.del(...keys),
      () => rm(dir, { recursive: true, force: true }),
    );
    vi.stubEnv('ERGON_REDIS_URL', REDIS_URL);
    vi.stubEnv('SHOP_STREAMS', prefix);
    vi.stubEnv('SHOP_DB', join(dir, 'shop.db'));
    const printed: unknown[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(line));
    try {
      await import('./readme-example.js');
    } finally {
      vi.unstubAllEnvs();
      log.mockRestore();
    }
    expect(printed).toEqual(['2 orders fulfilled']);
    const receipts = await admin.xrange(`${prefix}:receipts`, '-', '+');
    expect(receipts.map(([, fields]) => fields.slice(0, 2))).toEqual([
      ['id', 'order-1/0'],
      ['id', 'order-2/0'],
    ]);
    expect(await admin.xpending(`${prefix}:orders`, 'ergon')).toEqual([0, null, null, null]);
  });
});
