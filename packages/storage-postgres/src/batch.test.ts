import type { StoreEvent } from '@ergon/core';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresExecutionLog } from './index.js';
import { dropSchema, POSTGRES_URL, postgresAvailable, testSchema } from './test-support.js';

const schemas: string[] = [];
afterAll(async () => {
  for (const name of schemas) await dropSchema(name);
});

const T0 = Date.UTC(2030, 0, 1);

// Skipped only without a PostgreSQL on a developer's machine; under CI=true requireService throws instead.
describe.skipIf(!postgresAvailable)('a batch of writes (function ergon_batch)', () => {
  it('stores a lone surrogate as U+FFFD, as a single text parameter would, instead of failing the batch', async () => {
    const schema = testSchema('batch');
    schemas.push(schema);
    const store = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema });
    try {
      for (const id of ['a', 'b'])
        await store.createFlow({ id, type: 't', queue: 'q', input: '[]', priority: 0, runAt: T0, now: T0 });
      const claimed = await store.claim({
        workerId: 'w',
        types: ['t'],
        queues: ['q'],
        limit: 2,
        leaseMs: 60_000,
        now: T0,
      });
      expect(claimed.map((c) => c.flow.id).sort()).toEqual(['a', 'b']);
      const writes = claimed.flatMap(({ flow, token }) => [
        {
          op: 'record' as const,
          request: {
            flowId: flow.id,
            token,
            now: T0,
            record: {
              flowId: flow.id,
              position: 0,
              key: `step\ud800#0`,
              kind: 'step' as const,
              status: 'completed' as const,
              attempts: 1,
              startedAt: T0,
              finishedAt: T0,
              result: flow.id === 'a' ? '"\udc00 \\ud800"' : '"\ud83d\ude00"',
            },
          },
        },
        {
          op: 'finish' as const,
          request: { flowId: flow.id, token, status: 'completed' as const, result: '1', now: T0 },
        },
      ]);
      const outcomes = await store.applyWrites(writes);
      expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, true]);
      expect(await store.getHistory('a')).toMatchObject([
        { key: 'step\ufffd#0', result: '"\ufffd \\ud800"' },
      ]);
      expect(await store.getHistory('b')).toMatchObject([{ key: 'step\ufffd#0', result: '"\ud83d\ude00"' }]);
      expect(await store.getFlow('a')).toMatchObject({ status: 'completed', result: '1' });
    } finally {
      await store.close();
    }
  });

  it('announces its finished flows once, from its own transaction or after a refused write', async () => {
    const schema = testSchema('batchev');
    schemas.push(schema);
    const store = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema });
    const observer = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema });
    const heard: string[] = [];
    let listening = false;
    const stop = observer.subscribe((e: StoreEvent) => {
      if (e.type === 'finished') heard.push(`${e.flowId}:${e.status}`);
      if (e.type === 'ready' && e.queue === 'p') listening = true;
    });
    try {
      // The observer listens once it hears a flow created by the other store.
      for (let i = 0; !listening; i++) {
        if (i > 100) throw new Error('the observer never heard a ready event');
        await store.createFlow({ id: `p${i}`, type: 'p', queue: 'p', input: '[]', priority: 0, runAt: T0, now: T0 });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (const id of ['a', 'b', 'c', 'd'])
        await store.createFlow({ id, type: 't', queue: 'q', input: '[]', priority: 0, runAt: T0, now: T0 });
      const claimed = await store.claim({
        workerId: 'w',
        types: ['t'],
        queues: ['q'],
        limit: 4,
        leaseMs: 60_000,
        now: T0,
      });
      const token = new Map(claimed.map((c) => [c.flow.id, c.token]));
      const finish = (flowId: string, stale = 0) => ({
        op: 'finish' as const,
        request: { flowId, token: (token.get(flowId) ?? 0) + stale, status: 'completed' as const, now: T0 },
      });
      // Every write made: the statement notifies.
      expect((await store.applyWrites([finish('a'), finish('b')])).map((o) => o.ok)).toEqual([true, true]);
      // One refused (a stale token): the statement notifies nothing, the store sends what it made.
      expect((await store.applyWrites([finish('c'), finish('d', 1)])).map((o) => o.ok)).toEqual([true, false]);
      await expect.poll(() => [...heard].sort(), { timeout: 5000 }).toEqual([
        'a:completed',
        'b:completed',
        'c:completed',
      ]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heard).toHaveLength(3);
    } finally {
      stop();
      await observer.close();
      await store.close();
    }
  });
});
