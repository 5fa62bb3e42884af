/**
 * The store the scenario suites run on, chosen by `ERGON_TEST_STORE`
 * (`memory`, `sqlite`, `redis`): the same test files run on every backend.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExecutionLog, InMemoryExecutionLog } from '@ergon/core';
import { requireService } from '@ergon/testing';

export type StoreKind = 'memory' | 'sqlite' | 'redis';

export const STORE_KIND = (process.env.ERGON_TEST_STORE ?? 'memory') as StoreKind;
const REDIS_URL = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';

// On Redis, check the service once: under CI=true a missing Redis fails here with
// one clear message (elsewhere it warns loudly, and the tests then fail to connect).
if (STORE_KIND === 'redis') await requireService('Redis', REDIS_URL);

/** A fresh, empty store and a function that disposes of it. */
export async function createTestStore(): Promise<{ store: ExecutionLog; dispose: () => Promise<void> }> {
  if (STORE_KIND === 'sqlite') {
    const { SqliteExecutionLog } = await import('@ergon/storage-sqlite');
    const dir = mkdtempSync(join(tmpdir(), 'ergon-exec-'));
    const store = await SqliteExecutionLog.open({ path: join(dir, 'test.db') });
    return {
      store,
      dispose: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (STORE_KIND === 'redis') {
    const { RedisExecutionLog } = await import('@ergon/storage-redis');
    const { Redis } = await import('ioredis');
    const prefix = `ergon-test:exec:${randomUUID()}`;
    const store = await RedisExecutionLog.open({ url: REDIS_URL, prefix });
    return {
      store,
      dispose: async () => {
        await store.close();
        const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
        try {
          let cursor = '0';
          do {
            const [next, keys] = await admin.scan(cursor, 'MATCH', `\\{${prefix}\\}:*`, 'COUNT', 1000);
            cursor = next;
            if (keys.length > 0) await admin.del(...keys);
          } while (cursor !== '0');
        } finally {
          admin.disconnect();
        }
      },
    };
  }
  return { store: new InMemoryExecutionLog(), dispose: async () => {} };
}
