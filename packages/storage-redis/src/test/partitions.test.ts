/**
 * The partitioned layout on the shared Redis: the hashes, the tags, the
 * partition count kept per prefix and checked on open, and where flows live
 * (a child with its parent, a flow with flow-control keys at home, each found
 * by id from a store that never saw it).
 */
import { randomUUID } from 'node:crypto';
import { noopLogger } from '@ergon/core';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisExecutionLog } from '../index.js';
import { CLUSTER_SLOTS, crc16, crc32, tagSlot } from '../internal/hash.js';
import { partitionTag } from '../internal/partitions.js';
import { resolveOptions } from '../options.js';
import { disposeStore, keysOf, openStore, REDIS_URL, randomPrefix, redisAvailable } from './support.js';

const T0 = Date.UTC(2030, 0, 1);
const newFlow = (id: string, more: Record<string, unknown> = {}) => ({
  id,
  type: 't',
  queue: 'q',
  input: '[]',
  priority: 0,
  runAt: T0,
  now: T0,
  ...more,
});

describe('partition layout', () => {
  it('hashes as zlib (CRC-32) and Redis Cluster (CRC-16/XMODEM) do', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc16('123456789')).toBe(0x31c3);
    // The slot Redis documents for the key "123456789".
    expect(tagSlot('123456789')).toBe(12739);
  });

  it('keeps one partition under the prefix itself, and spreads more evenly over the slots', () => {
    expect(partitionTag('orders', 1, 0)).toBe('orders');
    for (const [count, perMaster] of [
      [16, [5, 6, 5]],
      [24, [8, 8, 8]],
    ] as const) {
      const slots = Array.from({ length: count }, (_, i) => tagSlot(partitionTag('orders', count, i)));
      // Ascending: partition i sits in the i-th P-th of the slot space.
      expect([...slots].sort((a, b) => a - b)).toEqual(slots);
      const masters = [0, 0, 0];
      for (const slot of slots) masters[Math.floor((slot * 3) / CLUSTER_SLOTS)]! += 1;
      expect(masters).toEqual(perMaster);
    }
    // '#' is not allowed in a prefix: a partition tag is never another store's prefix.
    expect(partitionTag('orders', 16, 3)).toMatch(/^orders#3(\.\d+)?$/);
  });

  it('refuses a partitions option out of range, and a malformed waitForReplicas', () => {
    for (const partitions of [0, 257, 1.5, -1])
      expect(() => resolveOptions({ partitions })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { option: 'partitions' } }),
      );
    for (const waitForReplicas of [{ replicas: 0, timeoutMs: 10 }, { replicas: 1, timeoutMs: 0 }, {}])
      expect(() => resolveOptions({ waitForReplicas: waitForReplicas as never })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { option: 'waitForReplicas' } }),
      );
    expect(resolveOptions({}).defaultPartitions).toBe(1);
  });
});

// Service guard (support.ts): under CI=true a missing service fails the run; elsewhere this suite is skipped loudly.
describe.skipIf(!redisAvailable)('partitions on the shared Redis', () => {
  let admin: Redis;
  const stores: RedisExecutionLog[] = [];
  const open = async (options: { prefix?: string; partitions?: number } = {}) => {
    const store = await openStore(options);
    stores.push(store);
    return store;
  };
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await disposeStore(store);
  });
  afterAll(() => admin.disconnect());

  it('keeps the partition count of a prefix and refuses another with INVALID_ARGUMENT saying how to move', async () => {
    const prefix = randomPrefix('count');
    const first = await open({ prefix, partitions: 4 });
    expect(first.partitions).toBe(4);
    expect(await admin.hget(`{${prefix}}:meta`, 'partitions')).toBe('4');
    const again = await open({ prefix });
    expect(again.partitions).toBe(4);
    const refused = RedisExecutionLog.open({ url: REDIS_URL, prefix, partitions: 8, logger: noopLogger });
    await expect(refused).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { option: 'partitions', stored: 4, requested: 8 },
    });
    await expect(refused).rejects.toThrow(/export and import/);
  });

  it('counts a prefix written before partitions as one partition', async () => {
    const prefix = randomPrefix('legacy');
    // A flow of the single-slot layout, with no metadata key.
    await admin.zadd(`{${prefix}}:created`, 0, `${String(T0).padStart(16, '0')}old`);
    await expect(
      RedisExecutionLog.open({ url: REDIS_URL, prefix, partitions: 16, logger: noopLogger }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { stored: 1, requested: 16 } });
    const store = await open({ prefix });
    expect(store.partitions).toBe(1);
  });

  it('keeps a child in its parent’s partition, found by id from a store that never saw it', async () => {
    const prefix = randomPrefix('child');
    const store = await open({ prefix, partitions: 8 });
    const tags = store.partitionTags;
    // A parent and children whose own ids hash elsewhere.
    await store.createFlow(newFlow('parent'));
    const parentTag = await tagHolding(admin, tags, 'parent');
    const children = Array.from({ length: 12 }, (_, i) => `child-${i}-${randomUUID()}`);
    for (const id of children) await store.createFlow(newFlow(id, { parentId: 'parent' }));
    for (const id of children) expect(await admin.exists(`{${parentTag}}:flow:${id}`)).toBe(1);
    const moved = (await keysOf(admin, prefix)).filter((k) => k.includes(':loc:'));
    expect(moved.length).toBeGreaterThan(0);

    const other = await open({ prefix });
    for (const id of children) {
      expect(await other.getFlow(id)).toMatchObject({ id, parentId: 'parent' });
      await other.sendSignal({ flowId: id, name: 'go', payload: '[]', now: T0 });
      expect(await other.getSignals(id)).toHaveLength(1);
    }
    const page = await other.listFlows({ parentId: 'parent', limit: 100 });
    expect(page.flows.map((f) => f.id).sort()).toEqual([...children].sort());
  });

  it('keeps flows with flow-control keys in the home partition, and refuses such a child elsewhere', async () => {
    const store = await open({ partitions: 8 });
    const [home] = store.partitionTags;
    const keyed = Array.from({ length: 6 }, (_, i) => `keyed-${i}`);
    for (const id of keyed) await store.createFlow(newFlow(id, { concurrencyKey: 'tenant' }));
    for (const id of keyed) expect(await admin.exists(`{${home}}:flow:${id}`)).toBe(1);

    let parent = '';
    for (let i = 0; !parent; i++) {
      await store.createFlow(newFlow(`p-${i}`));
      if ((await tagHolding(admin, store.partitionTags, `p-${i}`)) !== home) parent = `p-${i}`;
    }
    await expect(
      store.createFlow(newFlow('keyed-child', { parentId: parent, dedup: { key: 'd' } })),
    ).rejects.toMatchObject({ code: 'INVALID_FLOW_CONTROL' });
  });

  it('leaves no location key behind once its flow is purged', async () => {
    const prefix = randomPrefix('purge');
    const store = await open({ prefix, partitions: 8 });
    for (let i = 0; i < 6; i++) await store.createFlow(newFlow(`k-${i}`, { concurrencyKey: 'c' }));
    expect((await keysOf(admin, prefix)).some((k) => k.includes(':loc:'))).toBe(true);
    for (;;) {
      const claimed = await store.claim({
        workerId: 'w',
        types: ['t'],
        queues: ['q'],
        limit: 10,
        leaseMs: 1000,
        now: T0,
      });
      if (claimed.length === 0) break;
      for (const c of claimed)
        await store.finishFlow({ flowId: c.flow.id, token: c.token, status: 'completed', now: T0 });
    }
    expect(await store.purge({ finishedBefore: T0 + 1, limit: 100 })).toBe(6);
    expect((await keysOf(admin, prefix)).filter((k) => k.includes(':loc:') || k.includes(':flow:'))).toEqual(
      [],
    );
  });
});

/** The tag of the partition whose keys hold the flow. */
async function tagHolding(admin: Redis, tags: readonly string[], id: string): Promise<string> {
  for (const tag of tags) if ((await admin.exists(`{${tag}}:flow:${id}`)) === 1) return tag;
  throw new Error(`flow ${id} is in no partition`);
}
