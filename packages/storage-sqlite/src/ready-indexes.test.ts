import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { SQLITE_SCHEMA_VERSION, SqliteExecutionLog } from './index.js';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, MIGRATIONS } from './internal/migrations.js';

const T0 = Date.UTC(2030, 0, 1);
const paths: string[] = [];

afterEach(() => {
  for (const path of paths.splice(0)) {
    for (const suffix of ['', '-wal', '-shm', '-journal', '-ergon-wake'])
      rmSync(path + suffix, { force: true });
  }
});

/** A store file as version 7 of the schema left it, with `rows` of flows written by plain SQL. */
async function writeVersion7(path: string, rows: (db: Database.Database) => void): Promise<void> {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  const kysely = new Kysely({ dialect: new SqliteDialect({ database: db }) });
  const before = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < '0008'));
  const migrator = new Migrator({
    db: kysely,
    provider: { getMigrations: async () => before },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
  expect(db.pragma('user_version', { simple: true })).toBe(7);
  rows(db);
  await kysely.destroy();
}

function indexNames(path: string): string[] {
  const db = new Database(path);
  try {
    return db
      .prepare("select name from sqlite_master where type = 'index' and tbl_name = 'flows' order by name")
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
}

describe('schema version 8: ready flows and running flows in indexes of their own', () => {
  it('upgrades a version 7 file: ready flows, expired leases and the next wake-up are found as before', async () => {
    const path = join(tmpdir(), `ergon-ready-${randomUUID()}.db`);
    paths.push(path);
    await writeVersion7(path, (db) => {
      const flow = db.prepare(
        `insert into flows (id, type, queue, status, priority, input, run_at, lease_expires_at, fencing_token,
           created_at, updated_at) values (?, 't', 'q', ?, ?, '[]', ?, ?, ?, ?, ?)`,
      );
      flow.run('pending-late', 'pending', 0, T0 - 10, null, 0, T0, T0);
      flow.run('pending-urgent', 'pending', 5, T0 - 1, null, 0, T0, T0);
      flow.run('pending-future', 'pending', 0, T0 + 5000, null, 0, T0, T0);
      flow.run('suspended-timer', 'suspended', 0, T0 + 3000, null, 0, T0, T0);
      flow.run('suspended-forever', 'suspended', 0, null, null, 0, T0, T0);
      flow.run('running-expired', 'running', 0, T0 - 20, T0 - 1, 2, T0, T0);
      flow.run('running-no-lease', 'running', 0, T0 - 5, null, 3, T0, T0);
      flow.run('running-held', 'running', 0, T0 - 30, T0 + 2000, 1, T0, T0);
      flow.run('done', 'completed', 0, null, null, 1, T0, T0);
    });
    const store = await SqliteExecutionLog.open({ path });
    try {
      expect(indexNames(path)).toEqual(
        expect.arrayContaining(['flows_ready', 'flows_controlled', 'flows_running']),
      );
      expect(indexNames(path)).not.toContain('flows_due');
      expect(indexNames(path)).not.toContain('flows_claim');
      expect(indexNames(path)).not.toContain('flows_wake');
      expect(indexNames(path)).not.toContain('flows_held');
      expect(await store.nextWakeAt({ types: ['t'], queues: ['q'] })).toBe(0);
      const claimed = await store.claim({
        workerId: 'w',
        types: ['t'],
        queues: ['q'],
        limit: 10,
        leaseMs: 60_000,
        now: T0,
      });
      // Claim order: priority first, then runAt: expired leases take their place among ready flows.
      expect(claimed.map((c) => [c.flow.id, c.token])).toEqual([
        ['pending-urgent', 1],
        ['running-expired', 3],
        ['pending-late', 1],
        ['running-no-lease', 4],
      ]);
      expect(claimed.find((c) => c.flow.id === 'running-expired')?.flow.abandonedRuns).toBe(1);
      // What is left: the held lease expires at +2000, the timer at +3000, the pending flow at +5000.
      expect(await store.nextWakeAt({ types: ['t'], queues: ['q'] })).toBe(T0 + 2000);
      const later = await store.claim({
        workerId: 'w',
        types: ['t'],
        queues: ['q'],
        limit: 10,
        leaseMs: 60_000,
        now: T0 + 3000,
      });
      expect(later.map((c) => c.flow.id)).toEqual(['running-held', 'suspended-timer']);
      expect(await store.nextWakeAt({ types: ['t'], queues: ['q'] })).toBe(T0 + 5000);
      expect(await store.nextWakeAt({ types: ['other'], queues: ['q'] })).toBeUndefined();
    } finally {
      await store.close();
    }
    expect(new Database(path).pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
  });

  it('schema version 11: the next wake-up is the earliest ready flow across every priority', async () => {
    const store = await SqliteExecutionLog.open({ path: ':memory:' });
    try {
      const base = { type: 't', queue: 'q', input: '[]', now: T0 };
      const wake = () => store.nextWakeAt({ types: ['t'], queues: ['q'] });
      await store.createFlow({ ...base, id: 'high-late', priority: 9, runAt: T0 + 900 });
      expect(await wake()).toBe(T0 + 900);
      await store.createFlow({ ...base, id: 'low-soon', priority: -3, runAt: T0 + 100 });
      await store.createFlow({ ...base, id: 'mid', priority: 2, runAt: T0 + 500 });
      await store.createFlow({ ...base, id: 'mid-soon', priority: 2, runAt: T0 + 300 });
      await store.createFlow({ ...base, id: 'other-type', type: 'u', priority: 0, runAt: T0 + 1 });
      expect(await wake()).toBe(T0 + 100);
      await store.requestCancel({ flowId: 'low-soon', error: '"stop"', now: T0 });
      expect(await wake()).toBe(T0 + 300);
      await store.requestCancel({ flowId: 'mid-soon', error: '"stop"', now: T0 });
      expect(await wake()).toBe(T0 + 500);
    } finally {
      await store.close();
    }
  });

  it('a renewed lease is not claimable; a released flow is claimable again at its retry time', async () => {
    const store = await SqliteExecutionLog.open({ path: ':memory:' });
    try {
      const base = { type: 't', queue: 'q', priority: 0, input: '[]', now: T0 };
      await store.createFlow({ ...base, id: 'a', runAt: T0 });
      const claim = { workerId: 'w', types: ['t'], queues: ['q'], limit: 5, leaseMs: 1000 };
      const [first] = await store.claim({ ...claim, now: T0 });
      if (!first) throw new Error('nothing claimed');
      await store.renewLease({ flowId: 'a', token: first.token, leaseMs: 5000, now: T0 + 500 });
      expect(await store.claim({ ...claim, now: T0 + 2000 })).toEqual([]);
      expect(await store.nextWakeAt({ types: ['t'], queues: ['q'] })).toBe(T0 + 5500);
      await store.releaseLease({ flowId: 'a', token: first.token, now: T0 + 2000, retryAt: T0 + 4000 });
      expect(await store.nextWakeAt({ types: ['t'], queues: ['q'] })).toBe(T0 + 4000);
      expect(await store.claim({ ...claim, now: T0 + 3999 })).toEqual([]);
      expect((await store.claim({ ...claim, now: T0 + 4000 })).map((c) => c.token)).toEqual([2]);
    } finally {
      await store.close();
    }
  });

  it('a controlled queue claims a flow whose lease expired again, keyed or not, in fair order', async () => {
    const store = await SqliteExecutionLog.open({ path: ':memory:' });
    try {
      await store.configureQueue({ queue: 'q', limits: { concurrency: 2 }, now: T0 });
      const base = { type: 't', queue: 'q', priority: 0, input: '[]', now: T0, runAt: T0 };
      await store.createFlow({ ...base, id: 'plain' });
      await store.createFlow({ ...base, id: 'keyed', concurrencyKey: 'k' });
      const claim = { workerId: 'w', types: ['t'], queues: ['q'], limit: 5, leaseMs: 1000 };
      expect((await store.claim({ ...claim, now: T0 })).map((c) => c.flow.id)).toEqual(['plain', 'keyed']);
      // Both slots held: nothing until the leases expire, then both again.
      await store.createFlow({ ...base, id: 'third' });
      expect(await store.claim({ ...claim, now: T0 + 999 })).toEqual([]);
      const again = await store.claim({ ...claim, now: T0 + 1000 });
      expect(again.map((c) => [c.flow.id, c.token])).toEqual([
        ['plain', 2],
        ['third', 1],
      ]);
    } finally {
      await store.close();
    }
  });
});
