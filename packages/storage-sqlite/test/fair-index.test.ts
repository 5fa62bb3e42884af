/**
 * Schema version 12 (`src/internal/fair-index.ts`): only flows of controlled queues are in the fair
 * index. A flow is marked when created in a controlled queue, and a queue's unfinished flows when
 * it becomes controlled (limits configured, or its first keyed flow), so its claims still see every
 * flow it had before; an upgraded file marks those of the queues controlled then.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { SQLITE_SCHEMA_VERSION, SqliteExecutionLog } from '../src/index.js';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, MIGRATIONS } from '../src/internal/migrations.js';
import { newFlow, T0, tempStores } from './support.js';

const stores = tempStores('fair-index');
const paths: string[] = [];
afterEach(() => {
  for (const path of paths.splice(0)) {
    for (const suffix of ['', '-wal', '-shm', '-ergon-wake']) rmSync(path + suffix, { force: true });
  }
});

/** Each flow's `controlled` mark, by id. */
function marks(path: string): Record<string, number | null> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('select id, controlled from flows order by id').all() as {
      id: string;
      controlled: number | null;
    }[];
    return Object.fromEntries(rows.map((r) => [r.id, r.controlled]));
  } finally {
    db.close();
  }
}

const claim = (store: SqliteExecutionLog, types: string[], now: number, queues = ['q']) =>
  store.claim({ workerId: 'w', queues, types, limit: 10, leaseMs: 60_000, now });

describe('schema version 12: the fair index holds flows of controlled queues only', () => {
  it('marks a flow created in a controlled queue, not one of a plain queue', async () => {
    const [store] = (await stores.open(1)) as [SqliteExecutionLog];
    await store.configureQueue({ queue: 'q', limits: { concurrency: 5 }, now: T0 });
    await store.createFlow(newFlow('in-q'));
    await store.createFlow(newFlow('in-plain', { queue: 'plain' }));
    await store.createFlows([newFlow('batch-q'), newFlow('batch-plain', { queue: 'plain' })]);
    expect(marks(store.path)).toEqual({ 'batch-plain': null, 'batch-q': 1, 'in-plain': null, 'in-q': 1 });
  });

  it('a queue configured after its flows were created claims them, a suspended one once woken', async () => {
    const [store] = (await stores.open(1)) as [SqliteExecutionLog];
    await store.createFlow(newFlow('p1'));
    await store.createFlow(newFlow('p2', { runAt: T0 + 1 }));
    await store.createFlow(newFlow('s', { type: 'wait' }));
    const [held] = await claim(store, ['wait'], T0);
    if (!held) throw new Error('nothing claimed');
    const waits = [{ kind: 'signal' as const, name: 'go', position: 0 }];
    await store.suspend({ flowId: 's', token: held.token, waits, now: T0 });
    await store.createFlow(newFlow('elsewhere', { queue: 'plain' }));
    expect(marks(store.path)).toEqual({ elsewhere: null, p1: null, p2: null, s: null });
    await store.configureQueue({ queue: 'q', limits: { concurrency: 1 }, now: T0 });
    expect(marks(store.path)).toEqual({ elsewhere: null, p1: 1, p2: 1, s: 1 });
    // The limit applies to the flows created before it: one at a time, in order.
    const [first] = await claim(store, ['order'], T0 + 10);
    expect(first?.flow.id).toBe('p1');
    expect(await claim(store, ['order'], T0 + 10)).toEqual([]);
    await store.finishFlow({ flowId: 'p1', token: first?.token ?? 0, status: 'completed', now: T0 + 11 });
    await store.sendSignal({ flowId: 's', name: 'go', payload: '1', now: T0 + 12 });
    expect((await claim(store, ['order', 'wait'], T0 + 20)).map((c) => c.flow.id)).toEqual(['p2']);
  });

  it('the first keyed flow makes the queue controlled: the plain flows before it are claimed too', async () => {
    const [store] = (await stores.open(1)) as [SqliteExecutionLog];
    await store.createFlow(newFlow('u1'));
    await store.createFlow(newFlow('u2', { runAt: T0 + 1 }));
    await store.createFlow(newFlow('elsewhere', { queue: 'plain' }));
    await store.createFlow(newFlow('k1', { concurrencyKey: 'a' }));
    await store.createFlow(newFlow('k2', { concurrencyKey: 'a' }));
    expect(marks(store.path)).toEqual({ elsewhere: null, k1: 1, k2: 1, u1: 1, u2: 1 });
    const claimed = await store.claim({
      workerId: 'w',
      queues: ['q'],
      types: ['order'],
      limit: 10,
      leaseMs: 60_000,
      now: T0 + 5,
    });
    // Untagged flows first (no fair tag), then key a's in tag order.
    expect(claimed.map((c) => c.flow.id)).toEqual(['u1', 'u2', 'k1', 'k2']);
  });

  it('upgrades a version 11 file: unfinished flows of queues controlled then are marked', async () => {
    const path = join(tmpdir(), `ergon-fair-${randomUUID()}.db`);
    paths.push(path);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    const kysely = new Kysely({ dialect: new SqliteDialect({ database: db }) });
    const before = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < '0012'));
    const { error } = await new Migrator({
      db: kysely,
      provider: { getMigrations: async () => before },
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
    }).migrateToLatest();
    if (error) throw error;
    expect(db.pragma('user_version', { simple: true })).toBe(11);
    db.prepare(`insert into queues (queue, limits) values ('q', '{"concurrency":5}')`).run();
    const flow = db.prepare(
      `insert into flows (id, type, queue, status, priority, input, run_at, created_at, updated_at)
       values (?, 'order', ?, ?, 0, '1', ?, ?, ?)`,
    );
    flow.run('q-pending', 'q', 'pending', T0, T0, T0);
    flow.run('q-suspended', 'q', 'suspended', null, T0, T0);
    flow.run('q-done', 'q', 'completed', null, T0, T0);
    flow.run('plain-pending', 'plain', 'pending', T0, T0, T0);
    await kysely.destroy();

    const store = await SqliteExecutionLog.open({ path });
    try {
      expect(marks(path)).toEqual({
        'plain-pending': null,
        'q-done': null,
        'q-pending': 1,
        'q-suspended': 1,
      });
      const db2 = new Database(path, { readonly: true });
      const indexes = db2
        .prepare("select name from sqlite_master where type = 'index' and tbl_name = 'flows'")
        .pluck()
        .all();
      db2.close();
      expect(indexes).toContain('flows_controlled');
      expect(indexes).not.toContain('flows_fair');
      const claimed = await claim(store, ['order'], T0, ['q', 'plain']);
      expect(claimed.map((c) => c.flow.id)).toEqual(['plain-pending', 'q-pending']);
    } finally {
      await store.close();
    }
    expect(SQLITE_SCHEMA_VERSION).toBe(12);
  });
});
