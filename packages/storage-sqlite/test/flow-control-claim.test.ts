/**
 * The claim of a controlled queue on SQLite (`src/internal/flow-control-claim.ts`): candidates read
 * as JSON rows, parsed as far as the claim reads them, and merged across types and expired leases.
 */
import { describe, expect, it } from 'vitest';
import type { SqliteExecutionLog } from '../src/index.js';
import { newFlow, T0, tempStores } from './support.js';

const stores = tempStores('fc-claim');

async function keyedStore(): Promise<SqliteExecutionLog> {
  const [store] = (await stores.open(1)) as [SqliteExecutionLog];
  await store.configureQueue({ queue: 'q', limits: { keyConcurrency: 1 }, now: T0 });
  return store;
}

const claim = (store: SqliteExecutionLog, options: { types: string[]; limit: number; now: number }) =>
  store.claim({ workerId: `w-${options.now}`, queues: ['q'], leaseMs: 1000, ...options });

describe('SqliteExecutionLog claim of a controlled queue', () => {
  it('claims an expired flow again among ready ones of two types, in fair order, one per key', async () => {
    const store = await keyedStore();
    const flows: [string, string, string][] = [
      ['a1', 'order', 'a'],
      ['a2', 'order', 'a'],
      ['b1', 'order', 'b'],
      ['c1', 'refund', 'c'],
      ['a3', 'refund', 'a'],
    ];
    for (const [id, type, key] of flows) await store.createFlow(newFlow(id, { type, concurrencyKey: key }));
    const first = await claim(store, { types: ['order'], limit: 1, now: T0 });
    expect(first.map((c) => c.flow.id)).toEqual(['a1']);
    // a1's lease has expired: a1 is a candidate again, and key a holds no live slot.
    const again = await claim(store, { types: ['order', 'refund'], limit: 10, now: T0 + 5000 });
    expect(again.map((c) => c.flow.id)).toEqual(['a1', 'b1', 'c1']);
    expect(again.map((c) => c.flow.concurrencyKey)).toEqual(['a', 'b', 'c']);
    expect(again[0]?.token).toBe((first[0]?.token ?? 0) + 1);
  });

  it('passes over a full key’s backlog, page after page, to the next key’s flow', async () => {
    const store = await keyedStore();
    for (let i = 0; i < 100; i++) {
      await store.createFlow(newFlow(`a${String(i).padStart(3, '0')}`, { concurrencyKey: 'a', priority: 1 }));
    }
    await store.createFlow(newFlow('b', { concurrencyKey: 'b' }));
    const first = await claim(store, { types: ['order'], limit: 1, now: T0 });
    expect(first.map((c) => c.flow.id)).toEqual(['a000']);
    // b (lower priority) comes after every one of a's, and a's slot is taken: the claim reads past
    // a's other 99, over several pages.
    const next = await claim(store, { types: ['order'], limit: 2, now: T0 + 10 });
    expect(next.map((c) => c.flow.id)).toEqual(['b']);
  });
});
