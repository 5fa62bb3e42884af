import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { SQLITE_SCHEMA_VERSION, SqliteExecutionLog } from './index.js';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, MIGRATIONS } from './internal/migrations.js';

const T0 = Date.UTC(2030, 0, 1);
const ERGON_APPLICATION_ID = 0x4552474e;
const paths: string[] = [];

afterEach(() => {
  for (const path of paths.splice(0)) {
    for (const suffix of ['', '-wal', '-shm', '-journal', '-ergon-wake'])
      rmSync(path + suffix, { force: true });
  }
});

function tempPath(): string {
  const path = join(tmpdir(), `ergon-migrations-${randomUUID()}.db`);
  paths.push(path);
  return path;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Runs `fn` on a plain connection to `path`, closed afterwards. */
function withDb<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Creates a store file as version 1 of the schema left it (no data). */
async function writeVersion1(path: string): Promise<void> {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  const kysely = new Kysely({ dialect: new SqliteDialect({ database: db }) });
  const initial = MIGRATIONS['0001_initial'];
  if (!initial) throw new Error('no migration 0001_initial');
  const migrator = new Migrator({
    db: kysely,
    provider: { getMigrations: async () => ({ '0001_initial': initial }) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error } = await migrator.migrateToLatest();
  await kysely.destroy();
  if (error) throw error;
}

function op(flowId: string, position: number) {
  return {
    flowId,
    position,
    key: `s#${position}`,
    kind: 'step' as const,
    status: 'completed' as const,
    attempts: 1,
    result: `["r${position}"]`,
    startedAt: T0,
    finishedAt: T0 + 1,
  };
}

function schemaOf(path: string) {
  return withDb(path, (db) => ({
    applicationId: db.pragma('application_id', { simple: true }),
    userVersion: db.pragma('user_version', { simple: true }),
    objects: db
      .prepare("select type, name, sql from sqlite_master where name not like 'sqlite_%' order by name")
      .all(),
    migrations: db.prepare('select name, timestamp from ergon_migration order by name').all(),
  }));
}

describe('migrations', () => {
  it('gives a fresh file the current schema, marked as Ergon', async () => {
    const path = tempPath();
    await (await SqliteExecutionLog.open({ path })).close();
    const schema = schemaOf(path);
    expect(schema.applicationId).toBe(ERGON_APPLICATION_ID);
    expect(schema.userVersion).toBe(SQLITE_SCHEMA_VERSION);
    expect(schema.migrations.map((m) => (m as { name: string }).name)).toEqual([
      '0001_initial',
      '0002_history_keys',
      '0003_workers',
      '0004_abandoned_runs',
      '0005_progress',
      '0006_flow_control',
      '0007_schedules',
      '0008_ready_indexes',
      '0009_feed_batches',
      '0010_running_owner',
      '0011_no_due_index',
      '0012_controlled_queues',
    ]);
    const names = schema.objects.map((o) => (o as { name: string }).name);
    expect(names).toEqual(
      expect.arrayContaining([
        'flows',
        'history',
        'signals',
        'events',
        'flows_ready',
        'flows_created',
        'flows_finished',
        'flows_parent',
        'flows_controlled',
        'flows_running',
        'queues',
        'queue_keys',
        'queue_starts',
        'flow_keys',
        'signals_flow',
        'history_spilled',
        'workers',
        'workers_seen',
        'schedules',
        'schedules_type',
        'ergon_migration',
      ]),
    );
    const sqlOf = (name: string) =>
      (schema.objects.find((o) => (o as { name: string }).name === name) as { sql: string }).sql;
    expect(sqlOf('flows')).toMatch(/"num" integer primary key, "id" text not null unique/i);
    expect(sqlOf('history')).toMatch(/"id" integer primary key/i);
    expect(sqlOf('history_spilled')).toMatch(/unique index .* \("flow_id", "position"\) where "id" < 0/i);
  });

  it('reopens an up-to-date file without changing its schema, and keeps its data', async () => {
    const path = tempPath();
    const first = await SqliteExecutionLog.open({ path });
    await first.createFlow({
      id: 'kept',
      type: 't',
      queue: 'q',
      input: '[]',
      priority: 0,
      runAt: T0,
      now: T0,
    });
    await first.close();
    const before = schemaOf(path);
    const again = await SqliteExecutionLog.open({ path });
    expect((await again.getFlow('kept'))?.status).toBe('pending');
    await again.close();
    expect(schemaOf(path)).toEqual(before);
  });

  it('migrates concurrent opens of a fresh file exactly once', async () => {
    const path = tempPath();
    const stores = await Promise.all(Array.from({ length: 4 }, () => SqliteExecutionLog.open({ path })));
    await Promise.all(stores.map((s) => s.close()));
    expect(schemaOf(path).migrations).toHaveLength(SQLITE_SCHEMA_VERSION);
  });

  it('upgrades a version 1 file: flows keep their rows, history its records, spilled ones included', async () => {
    const path = tempPath();
    await writeVersion1(path);
    withDb(path, (db) => {
      const flow = db.prepare(
        "insert into flows (id, type, queue, status, priority, input, run_at, created_at, updated_at, fencing_token) values (?, 't', 'q', ?, 0, '[]', ?, ?, ?, ?)",
      );
      flow.run('old-done', 'completed', null, T0, T0, 1);
      flow.run('old-running', 'running', T0, T0, T0, 4);
      const record = db.prepare(
        "insert into history (flow_id, position, key, kind, status, attempts, started_at, result) values (?, ?, ?, 'step', 'completed', 1, ?, ?)",
      );
      for (const position of [0, 1, 2 ** 20 + 5])
        record.run('old-running', position, `s#${position}`, T0, `["r${position}"]`);
      record.run('old-done', 0, 's#0', T0, '["done"]');
      record.run('gone', 3, 's#0', T0, '["orphan"]');
    });
    const store = await SqliteExecutionLog.open({ path });
    try {
      expect(schemaOf(path).userVersion).toBe(SQLITE_SCHEMA_VERSION);
      expect(await store.getFlow('old-running')).toMatchObject({ status: 'running', fencingToken: 4 });
      const history = await store.getHistory('old-running');
      expect(history.map((h) => [h.position, h.result])).toEqual([
        [0, '["r0"]'],
        [1, '["r1"]'],
        [2 ** 20 + 5, `["r${2 ** 20 + 5}"]`],
      ]);
      expect((await store.getHistory('old-done')).map((h) => h.result)).toEqual(['["done"]']);
      expect((await store.getHistory('gone')).map((h) => h.result)).toEqual(['["orphan"]']);
      // The upgraded flow is written to as any other: first write wins, new positions append.
      const lease = { flowId: 'old-running', token: 4 };
      const again = await store.recordOperation({
        ...lease,
        record: { ...op('old-running', 1), result: '["late"]' },
      });
      expect(again).toMatchObject({ existed: true, record: { result: '["r1"]' } });
      await store.recordOperation({ ...lease, record: op('old-running', 2) });
      expect((await store.getHistory('old-running')).map((h) => h.position)).toEqual([0, 1, 2, 2 ** 20 + 5]);
      // Rows from before version 5 have no progress, and take it like any other.
      expect((await store.getFlow('old-done'))?.progress).toBeUndefined();
      await store.setProgress({ ...lease, progress: '[0.5]', now: T0 + 1 });
      expect(await store.getFlow('old-running')).toMatchObject({ progress: '[0.5]', progressAt: T0 + 1 });
    } finally {
      await store.close();
    }
  });

  it('refuses a file written by a newer schema version with STORE_SCHEMA_TOO_NEW, untouched', async () => {
    const path = tempPath();
    await (await SqliteExecutionLog.open({ path })).close();
    withDb(path, (db) => db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`));
    const hash = sha256(path);
    await expect(SqliteExecutionLog.open({ path })).rejects.toMatchObject({ code: 'STORE_SCHEMA_TOO_NEW' });
    expect(sha256(path)).toBe(hash);
  });

  it('refuses a file with a migration this code does not know with STORE_SCHEMA_TOO_NEW', async () => {
    const path = tempPath();
    await (await SqliteExecutionLog.open({ path })).close();
    withDb(path, (db) =>
      db
        .prepare('insert into ergon_migration (name, timestamp) values (?, ?)')
        .run('9999_future', new Date().toISOString()),
    );
    const error = await SqliteExecutionLog.open({ path }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_SCHEMA_TOO_NEW' });
    expect((error as Error).message).toMatch(/9999_future/);
  });

  it('refuses a file that is not SQLite with STORE_FOREIGN and leaves it byte for byte', async () => {
    const path = tempPath();
    writeFileSync(path, `not a database\n${'x'.repeat(5000)}`);
    const hash = sha256(path);
    const error = await SqliteExecutionLog.open({ path }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_FOREIGN' });
    expect((error as Error).message).toContain(path);
    expect(sha256(path)).toBe(hash);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it.each([
    [
      'has foreign tables',
      (db: Database.Database) => db.exec('create table customers (id integer primary key, name text)'),
    ],
    ['has another application id', (db: Database.Database) => db.pragma('application_id = 1234')],
    [
      'looks like an old Ergon file without the marker',
      (db: Database.Database) => db.exec('create table flows (id text primary key)'),
    ],
  ])('refuses a SQLite file that %s with STORE_FOREIGN and leaves it byte for byte', async (_, setup) => {
    const path = tempPath();
    withDb(path, (db) => {
      setup(db);
      db.exec("create table if not exists notes (body text); insert into notes values ('keep me')");
    });
    const hash = sha256(path);
    await expect(SqliteExecutionLog.open({ path })).rejects.toMatchObject({ code: 'STORE_FOREIGN' });
    expect(sha256(path)).toBe(hash);
    expect(existsSync(`${path}-wal`)).toBe(false);
    // A connection it was given is refused the same way and left open for its owner.
    const db = new Database(path);
    await expect(SqliteExecutionLog.open({ database: db })).rejects.toMatchObject({ code: 'STORE_FOREIGN' });
    expect(db.open).toBe(true);
    db.close();
    expect(sha256(path)).toBe(hash);
  });

  it('accepts an existing empty file as a new store', async () => {
    const path = tempPath();
    writeFileSync(path, '');
    await (await SqliteExecutionLog.open({ path })).close();
    expect(schemaOf(path).userVersion).toBe(SQLITE_SCHEMA_VERSION);
  });

  it('reports a damaged store as a typed error, never a crash', async () => {
    const path = tempPath();
    const store = await SqliteExecutionLog.open({ path });
    for (let i = 0; i < 200; i++) {
      await store.createFlow({
        id: `c-${i}`,
        type: 't',
        queue: 'q',
        input: 'x'.repeat(200),
        priority: 0,
        runAt: T0,
        now: T0,
      });
    }
    await store.close();
    withDb(path, (db) => db.pragma('wal_checkpoint(TRUNCATE)'));
    const bytes = readFileSync(path);
    // Scribble over every page but the first (the header and schema stay readable).
    for (let offset = 4096; offset < bytes.length; offset++) bytes[offset] = (offset * 31) & 0xff;
    writeFileSync(path, bytes);
    const reopened = await SqliteExecutionLog.open({ path }).catch((e: unknown) => e);
    if (reopened instanceof SqliteExecutionLog) {
      const error = await reopened.listFlows({ limit: 1000 }).catch((e: unknown) => e);
      await reopened.close();
      expect(error).toMatchObject({ code: expect.stringMatching(/^STORE_(CORRUPT|FOREIGN)$/) });
    } else {
      expect(reopened).toMatchObject({ code: expect.stringMatching(/^STORE_(CORRUPT|FOREIGN)$/) });
    }
  });
});
