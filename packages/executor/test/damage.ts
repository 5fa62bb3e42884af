/**
 * Damage at rest for the scenario suites: what a disk, a bad edit or another
 * client can do to a store's data, done from outside the store (a second
 * SQLite connection, another Redis client, the file's bytes).
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ExecutionLog } from '@ergon/core';
import type { RedisExecutionLog } from '@ergon/storage-redis';
import type { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { Redis } from 'ioredis';
import { STORE_KIND } from './stores.js';

const REDIS_URL = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The part of a better-sqlite3 connection these helpers use. */
interface SqliteDb {
  prepare(sql: string): { get(...params: unknown[]): unknown; run(...params: unknown[]): unknown };
  pragma(source: string, options?: { simple: boolean }): unknown;
  close(): void;
}

/** better-sqlite3, resolved from the SQLite store's own dependencies in this workspace (this package has none). */
function sqliteDriver(): new (path: string, options?: { readonly?: boolean }) => SqliteDb {
  return createRequire(new URL('../../storage-sqlite/package.json', import.meta.url))('better-sqlite3');
}

/** Runs `change` on a second connection to a SQLite store's file. */
export function sqliteOutside<T>(store: ExecutionLog, change: (db: SqliteDb) => T): T {
  const Database = sqliteDriver();
  const db = new Database((store as SqliteExecutionLog).path);
  try {
    return change(db);
  } finally {
    db.close();
  }
}

/** Runs `change` with a Redis client of its own and the store's key base (`{prefix}:`). */
export async function redisOutside<T>(
  store: ExecutionLog,
  change: (redis: Redis, base: string) => Promise<T>,
): Promise<T> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    return await change(redis, `{${(store as RedisExecutionLog).prefix}}:`);
  } finally {
    redis.disconnect();
  }
}

/** Changes one character of an encoded value's body, keeping its checksum frame. */
export function alter(text: string): string {
  const at = text.lastIndexOf('1');
  if (at < 11) throw new Error(`no digit to alter in ${text}`);
  return `${text.slice(0, at)}9${text.slice(at + 1)}`;
}

/** Alters a stored value of a flow's record (its input or result) at rest (SQLite, Redis). */
export async function alterFlowValue(
  store: ExecutionLog,
  flowId: string,
  field: 'input' | 'result',
): Promise<void> {
  if (STORE_KIND === 'sqlite') {
    sqliteOutside(store, (db) => {
      const row = db.prepare(`select ${field} as value from flows where id = ?`).get(flowId) as {
        value: string;
      };
      db.prepare(`update flows set ${field} = ? where id = ?`).run(alter(row.value), flowId);
    });
  } else if (STORE_KIND === 'redis') {
    await redisOutside(store, async (redis, base) => {
      const value = await redis.hget(`${base}flow:${flowId}`, field);
      await redis.hset(`${base}flow:${flowId}`, field, alter(value ?? ''));
    });
  } else {
    throw new Error('the memory store keeps nothing at rest');
  }
}

/** Makes a flow record's waits unreadable at rest (SQLite, Redis). */
export async function damageWaits(store: ExecutionLog, flowId: string): Promise<void> {
  if (STORE_KIND === 'sqlite') {
    sqliteOutside(store, (db) => db.prepare("update flows set waits = '{not json' where id = ?").run(flowId));
  } else if (STORE_KIND === 'redis') {
    await redisOutside(store, (redis, base) => redis.hset(`${base}flow:${flowId}`, 'waits', '{not json'));
  } else {
    throw new Error('the memory store keeps nothing at rest');
  }
}

/** Alters the stored result of a flow's history record at `position` at rest (SQLite, Redis). */
export async function alterRecordedResult(
  store: ExecutionLog,
  flowId: string,
  position: number,
): Promise<void> {
  if (STORE_KIND === 'sqlite') {
    sqliteOutside(store, (db) => {
      const row = db
        .prepare('select id, result from history where flow_id = ? and position = ?')
        .get(flowId, position) as { id: number; result: string };
      db.prepare('update history set result = ? where id = ?').run(alter(row.result), row.id);
    });
  } else if (STORE_KIND === 'redis') {
    await redisOutside(store, async (redis, base) => {
      const key = `${base}hist:${flowId}`;
      const record = JSON.parse((await redis.hget(key, String(position))) ?? '{}') as { result: string };
      await redis.hset(key, String(position), JSON.stringify({ ...record, result: alter(record.result) }));
    });
  } else {
    throw new Error('the memory store keeps nothing at rest');
  }
}

/**
 * Corrupts the page of the history table's b-tree root in a SQLite file that no connection
 * has open (its WAL checkpointed by the last close): reading it fails with SQLITE_CORRUPT.
 */
export function corruptHistoryPage(path: string): void {
  const Database = sqliteDriver();
  const db = new Database(path, { readonly: true });
  let offset: number;
  try {
    const { rootpage } = db.prepare("select rootpage from sqlite_master where name = 'history'").get() as {
      rootpage: number;
    };
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    offset = (rootpage - 1) * pageSize + (rootpage === 1 ? 100 : 0);
  } finally {
    db.close();
  }
  const fd = openSync(path, 'r+');
  try {
    // The b-tree page type byte: 0 is none of the four valid kinds.
    writeSync(fd, Buffer.from([0, 0xff, 0xff, 0xff]), 0, 4, offset);
  } finally {
    closeSync(fd);
  }
}
