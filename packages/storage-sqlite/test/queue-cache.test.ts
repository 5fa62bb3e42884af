/**
 * Which queues are controlled is read once per write transaction (`src/internal/queue-cache.ts`):
 * a change to a queue made in that transaction must be seen by the calls after it.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewFlow } from '@ergon/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteExecutionLog } from '../src/index.js';

const T0 = Date.UTC(2030, 0, 1);
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function open(): Promise<SqliteExecutionLog> {
  const path = join(tmpdir(), `ergon-queue-cache-${randomUUID()}.db`);
  cleanups.push(() => {
    for (const suffix of ['', '-wal', '-shm', '-ergon-wake']) rmSync(path + suffix, { force: true });
  });
  const store = await SqliteExecutionLog.open({ path });
  cleanups.push(() => store.close());
  return store;
}

const newFlow = (id: string, extra: Partial<NewFlow> = {}): NewFlow => ({
  id,
  type: 'order',
  queue: 'q',
  input: '1',
  priority: 0,
  runAt: T0,
  now: T0,
  ...extra,
});

const claim = (store: SqliteExecutionLog, limit: number) =>
  store.claim({ workerId: 'w1', types: ['order'], queues: ['q'], limit, leaseMs: 60_000, now: T0 });

describe('SqliteExecutionLog queue cache', () => {
  it('sees limits set in the same transaction: a claim after configureQueue keeps them', async () => {
    const store = await open();
    await store.createFlows(['a', 'b', 'c'].map((id) => newFlow(id)));
    // One turn, one transaction: the first claim reads the queue as uncontrolled.
    const first = claim(store, 1);
    const configured = store.configureQueue({ queue: 'q', limits: { concurrency: 1 }, now: T0 });
    const second = claim(store, 5);
    expect((await first).length).toBe(1);
    await configured;
    expect(await second).toEqual([]);
  });

  it('sees a queue marked keyed in the same transaction: a slot freed there wakes workers', async () => {
    const store = await open();
    await store.createFlows([newFlow('a'), newFlow('b')]);
    const [a, b] = await claim(store, 2);
    if (!a || !b) throw new Error('expected two claimed flows');
    const ready: (number | undefined)[] = [];
    cleanups.push(store.subscribe((event) => event.type === 'ready' && ready.push(event.at)));
    // One turn: the first finish reads the queue as uncontrolled; the keyed create marks it
    // controlled; the second finish frees a slot of a controlled queue.
    const done = [
      store.finishFlow({ flowId: a.flow.id, token: a.token, status: 'completed', now: T0 }),
      store.createFlow(newFlow('k', { concurrencyKey: 'x', runAt: T0 + 60_000 })),
      store.finishFlow({ flowId: b.flow.id, token: b.token, status: 'completed', now: T0 }),
    ];
    await Promise.all(done);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The create's (run later), then the freed slot's (now).
    expect(ready).toEqual([T0 + 60_000, undefined]);
  });

  it('reads the table again in a later transaction', async () => {
    const store = await open();
    await store.createFlows(['a', 'b'].map((id) => newFlow(id)));
    expect((await claim(store, 1)).length).toBe(1);
    await store.configureQueue({ queue: 'q', limits: { concurrency: 1 }, now: T0 });
    expect(await claim(store, 5)).toEqual([]);
  });
});
