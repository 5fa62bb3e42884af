/**
 * Private namespaces on the shared local servers, and their removal: every
 * benchmark gets its own Redis prefix, BullMQ prefix, PostgreSQL schema or
 * temporary SQLite directory, and deletes it afterwards.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { POSTGRES_URL, REDIS_URL } from './config.js';

export function uniqueName(kind: string): string {
  return `ergon-bench-${kind}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key matching `pattern` (SCAN + UNLINK). */
export async function deleteKeys(pattern: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: true });
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** Keys of an Ergon Redis store with this prefix: `{prefix}:…`. */
export function ergonKeys(prefix: string): string {
  return `\\{${prefix}\\}:*`;
}

/** BullMQ connection options from a Redis URL (BullMQ does not read URLs itself). */
export function bullConnection(url = REDIS_URL): {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
} {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
  };
}

/** A temporary directory for SQLite files, and its removal. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ergon-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

interface PgClient {
  connect(): Promise<void>;
  query(text: string): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

/**
 * A query on PostgreSQL through the `pg` driver pg-boss brings (resolved from
 * pg-boss's own location, so the bench needs no direct dependency on it).
 */
export async function pgQuery(text: string): Promise<Record<string, unknown>[]> {
  const requireFromBoss = createRequire(createRequire(import.meta.url).resolve('pg-boss'));
  const pg = requireFromBoss('pg') as { Client: new (options: { connectionString: string }) => PgClient };
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** A schema name for pg-boss: letters, digits and underscores. */
export function pgSchemaName(): string {
  return `ergon_bench_${randomBytes(4).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(schema)) throw new Error(`bad schema name ${schema}`);
  await pgQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}
