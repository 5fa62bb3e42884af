/**
 * Helpers of the Redis-backed suites: the service URL, a random prefix per
 * test, SCAN+DEL clean-up, and private `redis-server` processes.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { type Logger, noopLogger } from '@ergon/core';
import { requireRedisServer, requireService } from '@ergon/testing';
import { Redis } from 'ioredis';
import { RedisExecutionLog } from '../index.js';

/** The shared Redis of the development and CI machines (DESIGN §8). */
export const REDIS_URL = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether the shared Redis answers; under CI=true a missing Redis throws instead. */
export const redisAvailable = (await requireService('Redis', REDIS_URL)).available;

/**
 * Whether `redis-server` can be started for private servers (eviction,
 * resilience, restart tests). Under CI=true a missing binary throws.
 */
export const redisServerAvailable = requireRedisServer();

/** A prefix no other test uses. */
export function randomPrefix(label = 't'): string {
  return `ergon-test:${label}:${randomUUID()}`;
}

/** SCAN pattern of every key of a prefix: `{prefix}:…` and, partitioned, `{prefix#i…}:…`. */
export function prefixPattern(prefix: string): string {
  return `\\{${prefix}[#}]*`;
}

/** Deletes every key of a prefix, by SCAN and DEL. */
export async function deletePrefix(url: string, prefix: string): Promise<number> {
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', prefixPattern(prefix), 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await admin.del(...keys);
    } while (cursor !== '0');
  } finally {
    admin.disconnect();
  }
  return deleted;
}

/** Every key of a prefix. */
export async function keysOf(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', prefixPattern(prefix), 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

/** Runs `change` on a connection of its own, as another client of the same Redis would. */
export async function outside(change: (redis: Redis) => Promise<unknown>): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    await change(redis);
  } finally {
    redis.disconnect();
  }
}

/** Opens a store on a fresh random prefix of the shared Redis. */
export function openStore(
  options: { prefix?: string; url?: string; partitions?: number } = {},
): Promise<RedisExecutionLog> {
  return RedisExecutionLog.open({ url: REDIS_URL, prefix: randomPrefix(), logger: noopLogger, ...options });
}

/** Closes the store and deletes its keys. */
export async function disposeStore(store: RedisExecutionLog, url = REDIS_URL): Promise<void> {
  await store.close();
  await deletePrefix(url, store.prefix);
}

/** A `redis-server` of a test file's own, in a temp dir (shared helper from @ergon/testing). */
export { PrivateRedisServer as PrivateRedis } from '@ergon/testing';

/** A logger that keeps what it was told, for assertions. */
export function captureLogger(): Logger & { readonly lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const logger = {
    lines,
    debug: (message: string) => void lines.push({ level: 'debug', message }),
    info: (message: string) => void lines.push({ level: 'info', message }),
    warn: (message: string) => void lines.push({ level: 'warn', message }),
    error: (message: string) => void lines.push({ level: 'error', message }),
    child: () => logger,
  };
  return logger;
}
