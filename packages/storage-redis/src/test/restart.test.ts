/**
 * A Redis restart: SIGKILL a private server running with AOF fsync always,
 * start it again on the same port and directory, and check that every
 * acknowledged flow is there and the store keeps working on the same
 * connection objects (reconnect, scripts loaded again).
 */
import { randomUUID } from 'node:crypto';
import { noopLogger } from '@ergon/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisExecutionLog } from '../index.js';
import { PrivateRedis, redisServerAvailable } from './support.js';

const T0 = Date.UTC(2030, 0, 1);

// Service guard (support.ts): under CI=true a missing service fails the run; elsewhere this suite is skipped loudly.
describe.skipIf(!redisServerAvailable)('Redis restart', () => {
  let server: PrivateRedis;
  let store: RedisExecutionLog;
  beforeAll(async () => {
    server = await PrivateRedis.start(['--appendonly', 'yes', '--appendfsync', 'always']);
    store = await RedisExecutionLog.open({
      url: server.url,
      prefix: 'restart',
      logger: noopLogger,
      commandTimeoutMs: 1500,
    });
  }, 20_000);
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it('keeps every acknowledged flow across SIGKILL and restart, fails calls while down, then works again', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const id = `f-${randomUUID()}`;
      await store.createFlow({
        id,
        type: 'order',
        queue: 'default',
        input: `[${i}]`,
        priority: 0,
        runAt: T0,
        now: T0,
      });
      ids.push(id);
    }
    const [claimed] = await store.claim({
      workerId: 'w',
      types: ['order'],
      queues: ['default'],
      limit: 1,
      leaseMs: 60_000,
      now: T0,
    });
    if (!claimed) throw new Error('nothing claimed');
    await store.recordOperation({
      ...{ flowId: claimed.flow.id, token: claimed.token },
      record: {
        flowId: claimed.flow.id,
        position: 0,
        key: 's#0',
        kind: 'step',
        status: 'completed',
        attempts: 1,
        result: '["kept"]',
        startedAt: T0,
      },
    });

    await server.kill();
    // While the server is down a call fails as STORE_UNAVAILABLE within its bound, never hangs.
    const started = Date.now();
    await expect(store.getFlow(ids[0] ?? '')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(5000);

    await server.spawn();
    await expect
      .poll(() => store.getFlow(ids[0] ?? '').catch(() => undefined), { timeout: 10_000 })
      .toBeDefined();
    for (const id of ids) expect(await store.getFlow(id), id).toBeDefined();
    expect((await store.getHistory(claimed.flow.id))[0]?.result).toBe('["kept"]');

    // Scripts run again on the restarted server (its script cache is empty).
    const lease = { flowId: claimed.flow.id, token: claimed.token };
    expect(
      (
        await store.recordOperation({
          ...lease,
          record: {
            flowId: lease.flowId,
            position: 1,
            key: 's#1',
            kind: 'step',
            status: 'completed',
            attempts: 1,
            result: '[2]',
            startedAt: T0,
          },
        })
      ).existed,
    ).toBe(false);
    await store.finishFlow({ ...lease, status: 'completed', result: '[1]', now: T0 + 1 });
    const more = await store.claim({
      workerId: 'w2',
      types: ['order'],
      queues: ['default'],
      limit: 100,
      leaseMs: 60_000,
      now: T0 + 1,
    });
    expect(more).toHaveLength(49);
  }, 30_000);
});
