import { randomUUID } from 'node:crypto';
import { requireService } from '@ergon/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach } from 'vitest';
import {
  type CreateRedisStreamsConnectorOptions,
  createRedisStreamsConnector,
  type RedisStreamsConnector,
} from '../src/index.js';

/** The shared Redis of the tests (DESIGN §8). */
export const REDIS_URL = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers; under CI=true an unreachable Redis fails the suite instead. */
export const redisAvailable = (await requireService('Redis', REDIS_URL)).available;

/** A plain client for looking at streams from outside the connector. */
export function adminClient(url = REDIS_URL): Redis {
  const client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  afterAll(() => {
    client.disconnect();
  });
  return client;
}

/**
 * A fresh stream name per call (`ergon-test:rs:<uuid>`); every key made
 * under it (the stream, its dead-letter stream) is deleted after the test,
 * and every connector made with `connector()` is stopped.
 */
export function streams(admin: () => Redis) {
  const keys: string[] = [];
  const connectors: RedisStreamsConnector<unknown>[] = [];
  afterEach(async () => {
    await Promise.all(connectors.splice(0).map((c) => c.stop().catch(() => undefined)));
    const names = keys.splice(0);
    if (names.length > 0) await admin().del(...names.flatMap((k) => [k, `${k}:dead-letter`]));
  });
  const name = () => {
    const stream = `ergon-test:rs:${randomUUID()}`;
    keys.push(stream);
    return stream;
  };
  const connector = <P = { n: number }>(
    options: Partial<CreateRedisStreamsConnectorOptions> & { stream: string },
  ): RedisStreamsConnector<P> => {
    const c = createRedisStreamsConnector<P>({ url: REDIS_URL, block: '300ms', ...options });
    connectors.push(c as RedisStreamsConnector<unknown>);
    return c;
  };
  return { name, connector };
}
