/**
 * Which queues are controlled is read once per write transaction (`src/internal/queue-cache.ts`):
 * a change to a queue made in that transaction must be seen by the calls after it.
 */
import { describe, expect, it } from 'vitest';
import type { SqliteExecutionLog } from '../src/index.js';
import { newFlow, T0, tempStores } from './support.js';

const stores = tempStores('queue-cache');
const open = async () => (await stores.open(1))[0] as SqliteExecutionLog;

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
    stores.later(store.subscribe((event) => event.type === 'ready' && ready.push(event.at)));
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
