import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreEvent } from '@ergon/core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteExecutionLog, SqliteExecutionLog } from './index.js';

const T0 = Date.UTC(2030, 0, 1);
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh database path under the OS temp dir, removed (with -wal and -shm) after the test. */
function tempPath(): string {
  const path = join(tmpdir(), `ergon-sqlite-${randomUUID()}.db`);
  cleanups.push(() => {
    for (const suffix of ['', '-wal', '-shm', '-ergon-wake']) rmSync(path + suffix, { force: true });
  });
  return path;
}

async function open(options: Parameters<typeof SqliteExecutionLog.open>[0]): Promise<SqliteExecutionLog> {
  const store = await SqliteExecutionLog.open(options);
  cleanups.push(() => store.close());
  return store;
}

function newFlow(id: string, type = 'order', queue = 'default') {
  return { id, type, queue, input: '["in"]', priority: 0, runAt: T0, now: T0 };
}

const claimAll = (store: SqliteExecutionLog, workerId: string, type = 'order') =>
  store.claim({ workerId, types: [type], queues: ['default'], limit: 3, leaseMs: 60_000, now: T0 });

describe('SqliteExecutionLog options', () => {
  it.each([
    [{}],
    [{ path: 'a.db', database: new Database(':memory:') }],
    [{ path: '' }],
    [{ path: 'a.db', synchronous: 'OFF' }],
    [{ path: 'a.db', busyTimeoutMs: -1 }],
    [{ path: 'a.db', pollIntervalMs: [50, 10] }],
  ])('refuses %o with INVALID_ARGUMENT', async (options) => {
    await expect(SqliteExecutionLog.open(options as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('turns WAL on and applies synchronous: NORMAL by default, FULL on request', async () => {
    const store = await open({ path: tempPath() });
    expect(store.name).toBe('sqlite');
    const reader = new Database(store.path);
    cleanups.push(() => reader.close());
    expect(reader.pragma('journal_mode', { simple: true })).toBe('wal');

    // synchronous and busy_timeout belong to a connection: read them back on the store's own.
    for (const [synchronous, expected] of [
      [undefined, 1],
      ['NORMAL', 1],
      ['FULL', 2],
    ] as const) {
      const db = new Database(tempPath());
      cleanups.push(() => db.close());
      await open({ database: db, synchronous });
      expect(db.pragma('synchronous', { simple: true })).toBe(expected);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    }
  });

  it('closes idempotently, and never closes a connection it was given', async () => {
    const db = new Database(tempPath());
    cleanups.push(() => db.close());
    const store = await openSqliteExecutionLog({ database: db });
    await store.close();
    await store.close();
    expect(db.open).toBe(true);
    await expect(store.getFlow('x')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(store.createFlow(newFlow('x'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('opens read-only for inspection: reads work, writes are refused', async () => {
    const path = tempPath();
    const writer = await open({ path });
    await writer.createFlow(newFlow('ro'));
    const reader = await open({ path, readonly: true });
    expect((await reader.getFlow('ro'))?.status).toBe('pending');
    await expect(reader.createFlow(newFlow('ro2'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(SqliteExecutionLog.open({ path: tempPath(), readonly: true })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
  });

  it('works on a private in-memory database', async () => {
    const store = await open({ path: ':memory:' });
    await store.createFlow(newFlow('m1'));
    expect(await claimAll(store, 'w')).toHaveLength(1);
  });
});

describe('SqliteExecutionLog locking', () => {
  it('waits out another connection holding the write lock without blocking the event loop', async () => {
    const path = tempPath();
    const store = await open({ path, busyTimeoutMs: 2000 });
    const other = new Database(path);
    cleanups.push(() => other.close());
    other.exec('BEGIN IMMEDIATE');
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    setTimeout(() => other.exec('COMMIT'), 150);
    const started = Date.now();
    const { created } = await store.createFlow(newFlow('locked'));
    clearInterval(ticker);
    expect(created).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    // The COMMIT above runs on a timer: had the wait blocked the event loop, it
    // could never fire and the create would have failed. Ticks show the loop
    // kept turning (counts vary with machine load, so only "some" is asserted).
    expect(ticks).toBeGreaterThan(0);
  });

  it('gives up with STORE_UNAVAILABLE, never SQLITE_BUSY, when the lock outlasts busyTimeoutMs', async () => {
    const path = tempPath();
    const store = await open({ path, busyTimeoutMs: 100 });
    const other = new Database(path);
    cleanups.push(() => other.close());
    other.exec('BEGIN IMMEDIATE');
    await expect(store.createFlow(newFlow('x'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    other.exec('ROLLBACK');
    expect((await store.createFlow(newFlow('x'))).created).toBe(true);
  });

  it('waits out a held lock for a history record too (one statement, no BEGIN), and fences it', async () => {
    const path = tempPath();
    const store = await open({ path, busyTimeoutMs: 2000 });
    await store.createFlow(newFlow('rec'));
    const [claimed] = await claimAll(store, 'w');
    const lease = { flowId: 'rec', token: claimed?.token ?? 0 };
    const other = new Database(path);
    cleanups.push(() => other.close());
    other.exec('BEGIN IMMEDIATE');
    // The other connection takes the flow over while it holds the lock: the waiting write must see it.
    other.prepare("update flows set fencing_token = fencing_token + 1 where id = 'rec'").run();
    setTimeout(() => other.exec('COMMIT'), 100);
    await expect(store.recordOperation({ ...lease, record: op('rec', 0) })).rejects.toMatchObject({
      code: 'LEASE_LOST',
    });
    const taken = { ...lease, token: lease.token + 1 };
    other.exec('BEGIN IMMEDIATE');
    setTimeout(() => other.exec('COMMIT'), 100);
    expect((await store.recordOperation({ ...taken, record: op('rec', 0) })).existed).toBe(false);
    const impatient = await open({ path, busyTimeoutMs: 100 });
    other.exec('BEGIN IMMEDIATE');
    await expect(impatient.recordOperation({ ...taken, record: op('rec', 1) })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    other.exec('ROLLBACK');
    expect((await store.getHistory('rec')).map((h) => h.position)).toEqual([0]);
  });
});

describe('SqliteExecutionLog on one file from two connections', () => {
  it('gives each flow to exactly one claimer across both, and shares flows between them', async () => {
    const path = tempPath();
    const a = await open({ path });
    const b = await open({ path });
    const ids = Array.from({ length: 90 }, (_, i) => `two-${i}`);
    for (const [i, id] of ids.entries()) await (i % 2 ? a : b).createFlow(newFlow(id));
    expect((await b.getFlow('two-0'))?.status).toBe('pending');

    const seen: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        const store = w % 2 ? a : b;
        for (;;) {
          const batch = await claimAll(store, `w${w}`);
          if (batch.length === 0) return;
          seen.push(...batch.map((c) => c.flow.id));
        }
      }),
    );
    expect(seen).toHaveLength(ids.length);
    expect(new Set(seen)).toEqual(new Set(ids));

    await a.createFlow(newFlow('late', 'late'));
    const [claimed] = await b.claim({
      workerId: 'b',
      types: ['late'],
      queues: ['default'],
      limit: 1,
      leaseMs: 1000,
      now: T0,
    });
    expect(claimed?.flow.id).toBe('late');
    await expect(
      a.recordOperation({ ...{ flowId: 'late', token: 0 }, record: op('late', 0) }),
    ).rejects.toMatchObject({
      code: 'LEASE_LOST',
    });
    expect(
      (await a.recordOperation({ ...{ flowId: 'late', token: claimed?.token ?? 0 }, record: op('late', 0) }))
        .existed,
    ).toBe(false);
    expect(await b.getHistory('late')).toHaveLength(1);
  });

  it('delivers events of one connection to subscribers of another in this process at once', async () => {
    const path = tempPath();
    const a = await open({ path });
    const b = await open({ path });
    const events: StoreEvent[] = [];
    const stop = b.subscribe((e) => events.push(e));
    cleanups.push(stop);
    await a.createFlow(newFlow('ev', 'ev', 'evq'));
    await Promise.resolve();
    expect(events).toContainEqual({ type: 'ready', queue: 'evq', at: undefined });
  });

  it('notices commits of other processes through PRAGMA data_version and the change feed', async () => {
    const path = tempPath();
    const store = await open({ path, pollIntervalMs: [2, 20] });
    const events: StoreEvent[] = [];
    cleanups.push(store.subscribe((e) => events.push(e)));
    await new Promise((resolve) => setTimeout(resolve, 30));
    // Another process's write, as its store would record it (a different origin).
    const other = new Database(path);
    cleanups.push(() => other.close());
    other
      .prepare('insert into events (origin, type, queue, flow_id, status, at) values (?, ?, ?, ?, ?, ?)')
      .run('another-process', 'finished', null, 'remote-flow', 'completed', null);
    await waitFor(() => events.some((e) => e.type === 'finished' && e.flowId === 'remote-flow'));
    expect(events).toEqual([{ type: 'finished', flowId: 'remote-flow', status: 'completed' }]);
  });
});

describe('SqliteExecutionLog history', () => {
  it('stores the engine-assigned seq as given, through records and consumed signals', async () => {
    const store = await open({ path: tempPath() });
    await store.createFlow(newFlow('seq'));
    const [claimed] = await claimAll(store, 'w');
    const lease = { flowId: 'seq', token: claimed?.token ?? 0 };
    await store.recordOperation({ ...lease, record: { ...op('seq', 0), seq: 2 } });
    await store.recordOperation({ ...lease, record: op('seq', 1) });
    await store.sendSignal({ flowId: 'seq', name: 'go', payload: '["p"]', now: T0 });
    const consumed = await store.consumeSignal({
      ...lease,
      name: 'go',
      record: { flowId: 'seq', position: 2, key: 'go#0', kind: 'signal', attempts: 1, startedAt: T0, seq: 1 },
    });
    expect(consumed?.record).toMatchObject({ seq: 1, result: '["p"]' });
    const history = await store.getHistory('seq');
    expect(history.map((h) => h.seq)).toEqual([2, undefined, 1]);
    // A garbage result is stored and returned as is: decoding it is the engine's business.
    await store.recordOperation({ ...lease, record: { ...op('seq', 3), result: '\u0000not json{' } });
    expect((await store.getHistory('seq'))[3]?.result).toBe('\u0000not json{');
  });
});

describe('SqliteExecutionLog maintenance', () => {
  it('purges in batches: every finished flow with its history and signals, none of the live ones', async () => {
    const store = await open({ path: tempPath() });
    for (let i = 0; i < 230; i++) await store.createFlow(newFlow(`p-${i}`, 'purge'));
    await store.createFlow(newFlow('live', 'live'));
    const claimed = await store.claim({
      workerId: 'w',
      types: ['purge'],
      queues: ['default'],
      limit: 1000,
      leaseMs: 1000,
      now: T0,
    });
    for (const { flow, token } of claimed) {
      await store.recordOperation({ ...{ flowId: flow.id, token }, record: op(flow.id, 0) });
      await store.sendSignal({ flowId: flow.id, name: 's', payload: '[]', now: T0 });
      await store.finishFlow({ flowId: flow.id, token, status: 'completed', result: '[]', now: T0 });
    }
    expect(await store.purge({ finishedBefore: T0 + 1, limit: 10_000 })).toBe(230);
    expect(await store.getHistory('p-7')).toEqual([]);
    expect(await store.getSignals('p-7')).toEqual([]);
    expect((await store.listFlows({ limit: 50 })).flows.map((f) => f.id)).toEqual(['live']);
  });

  it('keeps the change feed bounded', async () => {
    const path = tempPath();
    const store = await open({ path });
    const db = new Database(path);
    cleanups.push(() => db.close());
    const insert = db.prepare("insert into events (origin, type, queue) values ('old', 'ready', 'q')");
    db.transaction(() => {
      for (let i = 0; i < 11_995; i++) insert.run();
    })();
    for (let i = 0; i < 10; i++) await store.createFlow(newFlow(`feed-${i}`));
    const { rows, first } = db.prepare('select count(*) as rows, min(seq) as first from events').get() as {
      rows: number;
      first: number;
    };
    expect(first).toBeGreaterThan(2000);
    expect(rows).toBeLessThanOrEqual(11_000);
  });

  it('answers claims, wake-ups, history, listing and purge from indexes, not table scans', async () => {
    const { db, queries } = await preparedStatements();
    // (expiredCandidates and fcExpired sort in a temporary b-tree: they run only when anyExpired finds one.)
    for (const name of [
      'claimCandidates',
      'anyExpired',
      'candidate',
      'nextReady',
      'nextExpiry',
      'fence',
      'holder',
      'oldestSignal',
      'eventsAfter',
      'history',
      'spilled',
      'historyById',
      'spilledAt',
      'recordFenced',
      'record',
      'recordSpilled',
      'deleteHistory',
      'deleteSpilled',
      'purgeable',
    ] as const) {
      const sql = queries[name].source;
      const params = Array.from(sql.matchAll(/\?/g), () => 1);
      const plan = (db.prepare(`explain query plan ${sql}`).all(...params) as { detail: string }[])
        .map((row) => row.detail)
        .join('; ');
      expect(plan, name).not.toMatch(/\bSCAN (flows|history|signals)\b/);
      expect(plan, name).not.toMatch(/TEMP B-TREE/);
    }
  });

  it('builds no temporary b-tree to check a row it writes (status checks are not IN lists)', async () => {
    const { db, queries } = await preparedStatements();
    // (Statements with RETURNING are left out: SQLite buffers the returned rows in one.)
    for (const name of [
      'insertFlow',
      'finish',
      'recordFenced',
      'record',
      'suspend',
      'wake',
      'renew',
    ] as const) {
      const sql = queries[name].source;
      const params = Array.from(sql.matchAll(/\?/g), () => 1);
      const opcodes = (db.prepare(`explain ${sql}`).all(...params) as { opcode: string }[]).map(
        (r) => r.opcode,
      );
      expect(opcodes, name).not.toContain('OpenEphemeral');
    }
  });
});

function op(flowId: string, position: number) {
  return {
    flowId,
    position,
    key: `step-${position}#0`,
    kind: 'step' as const,
    status: 'completed' as const,
    attempts: 1,
    result: `["r${position}"]`,
    startedAt: T0,
    finishedAt: T0 + 1,
  };
}

async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A fresh store's file opened directly, with the store's prepared statements on it. */
async function preparedStatements() {
  const path = tempPath();
  await open({ path });
  const db = new Database(path);
  cleanups.push(() => db.close());
  const { prepareQueries } = await import('./internal/queries.js');
  const { Kysely, SqliteDialect } = await import('kysely');
  const queries = prepareQueries(db, new Kysely({ dialect: new SqliteDialect({ database: db }) }));
  return { db, queries };
}
