import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SQLITE_SCHEMA_VERSION, SqliteExecutionLog } from './index.js';

const T0 = Date.UTC(2030, 0, 1);
const ERGON_APPLICATION_ID = 0x4552474e;
const paths: string[] = [];

afterEach(() => {
  for (const path of paths.splice(0)) {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true });
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
    expect(schema.migrations.map((m) => (m as { name: string }).name)).toEqual(['0001_initial']);
    const names = schema.objects.map((o) => (o as { name: string }).name);
    expect(names).toEqual(
      expect.arrayContaining([
        'flows',
        'history',
        'signals',
        'events',
        'flows_claim',
        'flows_wake',
        'flows_created',
        'flows_finished',
        'flows_parent',
        'signals_flow',
        'ergon_migration',
      ]),
    );
    const history = schema.objects.find((o) => (o as { name: string }).name === 'history') as { sql: string };
    expect(history.sql).toMatch(/primary key \("flow_id", "position"\)/i);
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
    expect(schemaOf(path).migrations).toHaveLength(1);
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
