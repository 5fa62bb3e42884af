/**
 * Group commit (`src/internal/group-commit.ts`): the calls made in one turn share one
 * transaction, in call order, and each still answers as it would alone.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewFlow, StoreEvent } from '@ergon/core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteExecutionLog } from '../src/index.js';

const T0 = Date.UTC(2030, 0, 1);
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Frames in the store's write-ahead log: one commit writes at least one. */
function walFrames(store: SqliteExecutionLog): number {
  const reader = new Database(store.path);
  try {
    const [row] = reader.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
    return row?.log ?? 0;
  } finally {
    reader.close();
  }
}

async function open(): Promise<SqliteExecutionLog> {
  const path = join(tmpdir(), `ergon-group-${randomUUID()}.db`);
  cleanups.push(() => {
    for (const suffix of ['', '-wal', '-shm', '-ergon-wake']) rmSync(path + suffix, { force: true });
  });
  const store = await SqliteExecutionLog.open({ path });
  cleanups.push(() => store.close());
  return store;
}

const newFlow = (id: string): NewFlow => ({
  id,
  type: 'order',
  queue: 'default',
  input: '1',
  priority: 0,
  runAt: T0,
  now: T0,
});

/** A store with flows `a` and `b` claimed by `w1`, and the events it delivers from then on. */
async function twoClaimed() {
  const store = await open();
  await store.createFlow(newFlow('a'));
  await store.createFlow(newFlow('b'));
  const [a, b] = await claim(store, 'w1');
  if (!a || !b) throw new Error('expected two claimed flows');
  const events: StoreEvent[] = [];
  cleanups.push(store.subscribe((event) => events.push(event)));
  return { store, a, b, events };
}

const claim = (store: SqliteExecutionLog, workerId: string, limit = 10) =>
  store.claim({ workerId, types: ['order'], queues: ['default'], limit, leaseMs: 60_000, now: T0 });

describe('SqliteExecutionLog group commit', () => {
  it('commits the calls of one turn together: 100 creates write fewer frames than 100 commits would', async () => {
    const together = await open();
    await Promise.all(Array.from({ length: 100 }, (_, i) => together.createFlow(newFlow(`f-${i}`))));
    const apart = await open();
    for (let i = 0; i < 100; i++) await apart.createFlow(newFlow(`f-${i}`));
    // Each commit appends at least one frame: 100 commits, at least 100.
    expect(walFrames(apart)).toBeGreaterThanOrEqual(100);
    expect(walFrames(together)).toBeLessThan(50);
  });

  it('runs the calls of one turn in call order: a read after a write of the same turn sees it', async () => {
    const store = await open();
    const created = store.createFlow(newFlow('a'));
    const read = store.getFlow('a');
    const claimed = claim(store, 'w1');
    expect((await created).created).toBe(true);
    expect((await read)?.status).toBe('pending');
    expect((await claimed).map((c) => c.flow.id)).toEqual(['a']);
  });

  it('fails a call with a stale token alone: the others of its turn are written and their events delivered', async () => {
    const { store, a, b, events } = await twoClaimed();

    const stale = store.finishFlow({ flowId: a.flow.id, token: a.token + 1, status: 'completed', now: T0 });
    const good = store.finishFlow({
      flowId: b.flow.id,
      token: b.token,
      status: 'completed',
      result: '2',
      now: T0,
    });
    await expect(stale).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await good;

    expect((await store.getFlow(a.flow.id))?.status).toBe('running');
    expect((await store.getFlow(b.flow.id))?.result).toBe('2');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const finished = events.filter((e) => e.type === 'finished').map((e) => (e as { flowId: string }).flowId);
    expect(finished).toEqual([b.flow.id]);
  });

  it('delivers the events of a batch with a refused write once: the bare try that failed leaves none', async () => {
    const { store, a, b, events } = await twoClaimed();

    const outcomes = await store.applyWrites([
      {
        op: 'finish',
        request: { flowId: a.flow.id, token: a.token, status: 'completed', result: '1', now: T0 },
      },
      { op: 'finish', request: { flowId: b.flow.id, token: b.token + 1, status: 'completed', now: T0 } },
    ]);

    expect(outcomes.map((o) => o.ok)).toEqual([true, false]);
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'LEASE_LOST' } });
    expect((await store.getFlow(a.flow.id))?.status).toBe('completed');
    expect((await store.getFlow(b.flow.id))?.status).toBe('running');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const finished = events.filter((e) => e.type === 'finished').map((e) => (e as { flowId: string }).flowId);
    expect(finished).toEqual([a.flow.id]);
  });

  it('runs each call alone when one fails with a driver error, so only that one fails', async () => {
    const store = await open();
    // A type of null breaks a NOT NULL constraint: a driver error, not an Ergon one.
    const broken = store.createFlow({ ...newFlow('bad'), type: null as unknown as string });
    const fine = store.createFlow(newFlow('fine'));
    await expect(broken).rejects.toThrow();
    expect((await fine).created).toBe(true);
    expect(await store.getFlow('bad')).toBeUndefined();
    expect((await store.getFlow('fine'))?.status).toBe('pending');
  });

  it('keeps every call of a large turn: 500 creates and 2 claims, each flow claimed once', async () => {
    const store = await open();
    const creates = Array.from({ length: 500 }, (_, i) => store.createFlow(newFlow(`f-${i}`)));
    const first = claim(store, 'w1', 300);
    const second = claim(store, 'w2', 300);
    expect((await Promise.all(creates)).every((r) => r.created)).toBe(true);
    const ids = [...(await first), ...(await second)].map((c) => c.flow.id);
    expect(ids).toHaveLength(500);
    expect(new Set(ids).size).toBe(500);
    expect((await first).length).toBe(300);
  });
});
