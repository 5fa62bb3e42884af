/**
 * The store the scenario suites run on, chosen by `ERGON_TEST_STORE`
 * (`memory`, `sqlite`, `redis`, `postgres`, `redis-cluster`): the same test files run on
 * every backend. `redis-cluster` is the Redis store on the real Redis Cluster the
 * project's global setup started (`redis-cluster.setup.ts`), with its default partitions.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExecutionLog, InMemoryExecutionLog } from '@ergon/core';
import { requireService, SchemaPool } from '@ergon/testing';
import { inject } from 'vitest';

export type StoreKind = 'memory' | 'sqlite' | 'redis' | 'postgres' | 'redis-cluster';

export const STORE_KIND = (process.env.ERGON_TEST_STORE ?? 'memory') as StoreKind;
const REDIS_URL = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.ERGON_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// On Redis, check the service once: under CI=true a missing Redis fails here with
// one clear message (elsewhere it warns loudly, and the tests then fail to connect).
if (STORE_KIND === 'redis') await requireService('Redis', REDIS_URL);
if (STORE_KIND === 'postgres') await requireService('PostgreSQL', POSTGRES_URL);

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
  if (STORE_KIND === 'postgres') return createPostgresStore();
  if (STORE_KIND === 'redis-cluster') return createClusterStore();
  return { store: new InMemoryExecutionLog(), dispose: async () => {} };
}

/** A store on the project's Redis Cluster under a prefix of its own, whose keys `dispose` deletes. */
async function createClusterStore(): Promise<{ store: ExecutionLog; dispose: () => Promise<void> }> {
  const nodes = inject('redisClusterNodes');
  if (!nodes) throw new Error('no Redis Cluster: the redis-cluster project starts one in its global setup');
  const { RedisExecutionLog } = await import('@ergon/storage-redis');
  const { Cluster } = await import('ioredis');
  const client = new Cluster(nodes, {
    enableAutoPipelining: true,
    redisOptions: { commandTimeout: 10_000, maxRetriesPerRequest: 20 },
  });
  const prefix = `ergon-test:exec:${randomUUID()}`;
  const store = await RedisExecutionLog.open({ redis: client, prefix });
  return {
    store,
    dispose: async () => {
      await store.close();
      try {
        await Promise.all(
          client.nodes('master').map(async (node) => {
            let cursor = '0';
            do {
              const [next, keys] = await node.scan(cursor, 'MATCH', `\\{${prefix}[#}]*`, 'COUNT', 1000);
              cursor = next;
              // One key per DEL: a master refuses keys of several slots in one command.
              for (const key of keys) await node.del(key);
            } while (cursor !== '0');
          }),
        );
      } finally {
        client.disconnect();
      }
    },
  };
}

/** The part of a pg `Client` the schema pool uses. */
interface PgClient {
  connect(): Promise<unknown>;
  query(text: string, params?: readonly unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

/**
 * Schemas of this process, emptied and reused from test to test (a new one runs every migration,
 * about half a second); the run's global setup (`postgres.setup.ts`) drops them all at the end.
 */
let schemas: SchemaPool | undefined;

async function schemaPool(): Promise<SchemaPool> {
  if (schemas) return schemas;
  // pg, resolved from the store's own dependencies (this package has none on it).
  const require = createRequire(new URL('../../storage-postgres/package.json', import.meta.url));
  const pg = require('pg') as { Client: new (options: { connectionString: string }) => PgClient };
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  (admin as unknown as { on(event: 'error', listener: () => void): void }).on('error', () => {});
  schemas = new SchemaPool(
    (text, params) => admin.query(text, params),
    inject('postgresSchemaPrefix'),
    'ergon_migration',
  );
  return schemas;
}

/** A store in an empty schema of its own on the local PostgreSQL, emptied for reuse by `dispose`. */
async function createPostgresStore(): Promise<{ store: ExecutionLog; dispose: () => Promise<void> }> {
  const { PostgresExecutionLog } = await import('@ergon/storage-postgres');
  const pool = await schemaPool();
  const schema = pool.acquire();
  const store = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema });
  return {
    store,
    dispose: async () => {
      await store.close();
      await pool.release(schema);
    },
  };
}
