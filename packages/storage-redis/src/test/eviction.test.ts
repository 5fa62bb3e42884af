/**
 * The start-up check of `maxmemory-policy`, against private redis-server
 * processes (the shared Redis is left as it is).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisExecutionLog } from '../index.js';
import { captureLogger, PrivateRedis, redisServerAvailable } from './support.js';

// Service guard (support.ts): under CI=true a missing service fails the run; elsewhere this suite is skipped loudly.
describe.skipIf(!redisServerAvailable)('eviction policy check', () => {
  let lru: PrivateRedis;
  let noConfig: PrivateRedis;
  beforeAll(async () => {
    [lru, noConfig] = await Promise.all([
      PrivateRedis.start(['--maxmemory-policy', 'allkeys-lru']),
      PrivateRedis.start(['--rename-command', 'CONFIG', '']),
    ]);
  }, 20_000);
  afterAll(async () => {
    await Promise.all([lru?.stop(), noConfig?.stop()]);
  });

  it('refuses allkeys-lru with STORE_UNSAFE_CONFIG and a message that says what to do', async () => {
    const failure = RedisExecutionLog.open({ url: lru.url, prefix: 'evict', logger: captureLogger() });
    await expect(failure).rejects.toMatchObject({
      code: 'STORE_UNSAFE_CONFIG',
      details: { policy: 'allkeys-lru' },
    });
    await expect(failure).rejects.toThrow(/noeviction/);
    await expect(failure).rejects.toThrow(/allowEvictionPolicy/);
  });

  it('starts on allkeys-lru with allowEvictionPolicy: true, and warns', async () => {
    const logger = captureLogger();
    const store = await RedisExecutionLog.open({
      url: lru.url,
      prefix: 'evict',
      allowEvictionPolicy: true,
      logger,
    });
    try {
      expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes('allkeys-lru'))).toBe(true);
      expect(await store.getFlow('nothing')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('accepts volatile-* policies (Ergon sets no TTLs) without a warning', async () => {
    const { Redis } = await import('ioredis');
    const admin = new Redis(lru.url);
    await admin.config('SET', 'maxmemory-policy', 'volatile-lru');
    try {
      const logger = captureLogger();
      const store = await RedisExecutionLog.open({ url: lru.url, prefix: 'evict', logger });
      await store.close();
      expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      admin.disconnect();
    }
  });

  it('warns and starts when CONFIG is disabled, as on managed Redis', async () => {
    const logger = captureLogger();
    const store = await RedisExecutionLog.open({ url: noConfig.url, prefix: 'evict', logger });
    try {
      expect(logger.lines.some((l) => l.level === 'warn' && l.message.includes('maxmemory-policy'))).toBe(
        true,
      );
      expect(
        (
          await store.createFlow({
            id: 'f',
            type: 't',
            queue: 'q',
            input: '[]',
            priority: 0,
            runAt: 0,
            now: 0,
          })
        ).created,
      ).toBe(true);
    } finally {
      await store.close();
    }
  });
});
