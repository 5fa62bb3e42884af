/**
 * Opening a database: tell an Ergon file from a foreign one without writing a
 * byte, refuse a newer schema, migrate under `BEGIN IMMEDIATE`, set pragmas.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ErrorCode } from '@ergon/core';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import type { ResolvedOptions } from '../options.js';
import { permanentError, sqliteCode, toErgonError } from './errors.js';
import {
  APPLICATION_ID,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  MIGRATIONS,
  migrationProvider,
  SCHEMA_VERSION,
} from './migrations.js';
import { BUSY_SLICE_MS, retryBusy } from './retry.js';
import type { Schema } from './schema.js';

/** An open connection, not yet checked. */
export interface Connection {
  readonly db: Database.Database;
  /** True when the store opened the connection and so must close it. */
  readonly owned: boolean;
  /** The file, for messages. */
  readonly where: string;
  /** Identifies the file among this process's connections; unique for a private database. */
  readonly key: string;
  readonly kysely: Kysely<Schema>;
}

/** Opens the connection `options` describe (or takes the one it gives). Writes nothing. */
export function connect(options: ResolvedOptions): Connection {
  const where = options.path ?? (options.database?.name || ':memory:');
  let db: Database.Database;
  try {
    db = options.database
      ? (options.database as unknown as Database.Database)
      : new Database(options.path, {
          readonly: options.readonly,
          fileMustExist: options.readonly,
          timeout: Math.min(options.busyTimeoutMs, BUSY_SLICE_MS),
        });
  } catch (error) {
    throw toErgonError(error, where);
  }
  // Kysely gets a view of the connection whose close() does nothing: the store decides
  // when to close, and never closes a connection the caller owns.
  const kysely = new Kysely<Schema>({
    dialect: new SqliteDialect({ database: { prepare: (sql: string) => db.prepare(sql), close: () => {} } }),
  });
  return { db, owned: options.database === undefined, where, key: fileKey(db), kysely };
}

function fileKey(db: Database.Database): string {
  if (db.memory) return `memory:${randomUUID()}`;
  try {
    return realpathSync(db.name);
  } catch {
    return resolvePath(db.name);
  }
}

/** What a file holds, read without writing. */
type Inspection =
  | { readonly kind: 'empty' }
  | { readonly kind: 'ergon'; readonly version: number; readonly migrations: readonly string[] }
  | { readonly kind: 'foreign'; readonly reason: string };

// WAL files past this size are truncated after a checkpoint, so a burst never leaves a huge file behind.
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

/**
 * Checks, migrates and configures `db`. A foreign or newer file is refused
 * before anything is written to it.
 *
 * @throws ErgonError `STORE_FOREIGN`, `STORE_SCHEMA_TOO_NEW`, `STORE_CORRUPT` or `STORE_UNAVAILABLE`.
 */
export async function prepareDatabase(connection: Connection, options: ResolvedOptions): Promise<void> {
  const { db, where } = connection;
  // A connection the caller opened read-only is used read-only.
  const readonly = options.readonly || db.readonly;
  try {
    db.pragma(`busy_timeout = ${Math.min(options.busyTimeoutMs, BUSY_SLICE_MS)}`);
    const found = await retryBusy(() => inspect(db), options.busyTimeoutMs);
    if (needsMigration(check(found, where))) {
      if (readonly) {
        throw permanentError(
          ErrorCode.STORE_UNAVAILABLE,
          `${where} has no current Ergon schema and is opened read-only: open it once read-write to create or upgrade it`,
        );
      }
      await retryBusy(() => db.pragma('journal_mode = WAL'), options.busyTimeoutMs);
      await withFileLock(connection.key, () => migrate(connection, options));
    } else if (!readonly) {
      // WAL is persistent, but a tool may have switched the file back to a rollback journal.
      await retryBusy(() => db.pragma('journal_mode = WAL'), options.busyTimeoutMs);
    }
    db.pragma(`synchronous = ${options.synchronous}`);
    // Savepoint journals in memory: a transaction's savepoints (one per write of a batch) copy
    // each page they change again, and past 64 KiB SQLite spills those copies to a temporary
    // file, a write() for every page. They live only as long as the transaction.
    db.pragma('temp_store = MEMORY');
    if (!readonly) db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
  } catch (error) {
    throw toErgonError(error, where);
  }
}

async function migrate({ db, kysely, where }: Connection, options: ResolvedOptions): Promise<void> {
  await retryBusy(() => db.exec('BEGIN IMMEDIATE'), Math.max(options.busyTimeoutMs, 30_000));
  try {
    // Another process may have migrated (or claimed) the file since the first look.
    if (needsMigration(check(inspect(db), where))) {
      const migrator = new Migrator({
        db: kysely,
        provider: migrationProvider,
        migrationTableName: MIGRATION_TABLE,
        migrationLockTableName: MIGRATION_LOCK_TABLE,
        // This function's BEGIN IMMEDIATE is the transaction: it also locks out other processes.
        disableTransactions: true,
      });
      const { error } = await migrator.migrateToLatest();
      if (error !== undefined) throw error;
    }
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

function inspect(db: Database.Database): Inspection {
  let appId: number;
  let version: number;
  let tables: string[];
  try {
    appId = db.pragma('application_id', { simple: true }) as number;
    version = db.pragma('user_version', { simple: true }) as number;
    tables = db
      .prepare<[], string>("select name from sqlite_master where name not like 'sqlite\\_%' escape '\\'")
      .pluck()
      .all();
  } catch (error) {
    if (sqliteCode(error) === 'SQLITE_NOTADB')
      return { kind: 'foreign', reason: 'it is not a SQLite database' };
    throw error;
  }
  if (appId === APPLICATION_ID) {
    const migrations = tables.includes(MIGRATION_TABLE)
      ? db.prepare<[], string>(`select name from ${MIGRATION_TABLE}`).pluck().all()
      : [];
    return { kind: 'ergon', version, migrations };
  }
  if (appId === 0 && version === 0 && tables.length === 0) return { kind: 'empty' };
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', …' : '');
  return {
    kind: 'foreign',
    reason:
      appId !== 0
        ? `it belongs to another application (application_id ${appId})`
        : `it is a SQLite database of another application (tables: ${shown || 'none'}, user_version ${version})`,
  };
}

function check(found: Inspection, where: string): Inspection {
  if (found.kind === 'foreign') {
    throw permanentError(
      ErrorCode.STORE_FOREIGN,
      `${where} is not an Ergon store: ${found.reason}. It was left untouched; point the store at a new file or an existing Ergon store`,
      { details: { file: where } },
    );
  }
  if (found.kind === 'ergon') {
    const unknown = found.migrations.filter((name) => !Object.hasOwn(MIGRATIONS, name));
    if (found.version > SCHEMA_VERSION || unknown.length > 0) {
      throw permanentError(
        ErrorCode.STORE_SCHEMA_TOO_NEW,
        `${where} was written by a newer @ergon/storage-sqlite (schema version ${found.version}` +
          `${unknown.length > 0 ? `, migrations ${unknown.join(', ')}` : ''}; this version knows ${SCHEMA_VERSION}). ` +
          'Upgrade @ergon/storage-sqlite; the file was left untouched',
        { details: { file: where, version: found.version, supported: SCHEMA_VERSION } },
      );
    }
  }
  return found;
}

function needsMigration(found: Inspection): boolean {
  if (found.kind !== 'ergon') return true;
  return (
    found.version < SCHEMA_VERSION || Object.keys(MIGRATIONS).some((name) => !found.migrations.includes(name))
  );
}

const fileLocks = new Map<string, Promise<void>>();

/** Runs `fn` after every earlier holder of `key` in this process has finished. */
async function withFileLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = fileLocks.get(key) ?? Promise.resolve();
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  const mine = previous.then(() => done);
  fileLocks.set(key, mine);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (fileLocks.get(key) === mine) fileLocks.delete(key);
  }
}
