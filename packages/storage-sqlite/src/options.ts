/**
 * Options of the SQLite store, validated once and frozen.
 *
 * @module
 */
import { InvalidArgumentError } from '@ergon/core';

/**
 * How hard SQLite pushes each commit to disk (`PRAGMA synchronous`), in WAL mode:
 * - `NORMAL` (default): a commit survives a crash of the process; after a power
 *   loss or OS crash the last few commits may be rolled back, never corrupted.
 * - `FULL`: every commit is fsynced before it returns, so it survives power
 *   loss too, at the price of one fsync per write.
 */
export type SqliteSynchronous = 'NORMAL' | 'FULL';

/**
 * The part of a better-sqlite3 `Database` the store relies on, declared
 * structurally (as Kysely does) so these types do not depend on
 * `@types/better-sqlite3`. Pass a real better-sqlite3 connection.
 */
export interface SqliteDatabase {
  /** The file name the connection was opened with. */
  readonly name: string;
  /** Must be true: the store needs an open connection. */
  readonly open: boolean;
  /** True for an in-memory database (private to this connection). */
  readonly memory: boolean;
  /** True when opened read-only: the store then only reads. */
  readonly readonly: boolean;
  /** True inside a transaction. */
  readonly inTransaction: boolean;
  /** Prepares a statement. */
  prepare(source: string): unknown;
  /** Runs SQL text. */
  exec(source: string): unknown;
  /** Reads or sets a pragma. */
  pragma(source: string, options?: { simple?: boolean }): unknown;
  /** Wraps a function in a transaction. */
  transaction(fn: (...args: never[]) => unknown): unknown;
  /** Closes the connection (never called by the store on a connection it was given). */
  close(): unknown;
}

/** Options of {@link SqliteExecutionLog.open}. Give exactly one of `path` and `database`. */
export interface SqliteExecutionLogOptions {
  /** The database file, created when missing. `':memory:'` for a private in-memory store. */
  readonly path?: string;
  /**
   * An open better-sqlite3 connection to use instead of `path`. The store sets its
   * pragmas on it and never closes it: the caller owns it.
   */
  readonly database?: SqliteDatabase;
  /** See {@link SqliteSynchronous}. Default `NORMAL`. */
  readonly synchronous?: SqliteSynchronous;
  /**
   * How long a statement waits for another connection's write lock before failing with
   * `STORE_UNAVAILABLE`, in ms. Default 5000. The first few ms are spent in SQLite's
   * busy handler; the rest in short, jittered, asynchronous retries that keep the event
   * loop free.
   */
  readonly busyTimeoutMs?: number;
  /** Open read-only (inspection tools). The file must exist with the current schema. */
  readonly readonly?: boolean;
  /**
   * Fastest and slowest interval, in ms, of the poll that notices commits from other
   * processes (`PRAGMA data_version`, run only while someone is subscribed). The poll
   * runs at `min` right after a change and backs off to `max` when idle. Default `[5, 200]`.
   * Connections to one file in one process share the poll; the first one opened sets it.
   */
  readonly pollIntervalMs?: readonly [min: number, max: number];
  /**
   * Hear other processes' commits at once (default true): a commit that makes events writes one
   * byte to a doorbell file beside the database (`<path>-ergon-wake`), and while someone is
   * subscribed the store watches that file (`fs.watch`), reading the change feed as soon as it is
   * rung instead of at the next poll. The poll keeps running as the fallback, so events arrive
   * either way. `false` neither rings nor watches (no extra file from this process; others then
   * notice its commits by polling). Like `pollIntervalMs`, set by the first connection opened.
   */
  readonly watch?: boolean;
}

/** Options after validation, with defaults applied (internal; see {@link SqliteExecutionLogOptions}). */
export interface ResolvedOptions {
  readonly path: string | undefined;
  readonly database: SqliteDatabase | undefined;
  readonly synchronous: SqliteSynchronous;
  readonly busyTimeoutMs: number;
  readonly readonly: boolean;
  readonly pollIntervalMs: readonly [number, number];
  readonly watch: boolean;
}

/** Validates options and applies defaults. @throws InvalidArgumentError naming the bad option. */
export function resolveOptions(options: SqliteExecutionLogOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('SqliteExecutionLog options must be an object: { path } or { database }');
  }
  const { path, database } = options;
  if ((path === undefined) === (database === undefined)) {
    throw new InvalidArgumentError('SqliteExecutionLog needs exactly one of `path` (a file) and `database`');
  }
  if (path !== undefined && (typeof path !== 'string' || path.length === 0)) {
    throw new InvalidArgumentError('SqliteExecutionLog `path` must be a non-empty string');
  }
  if (database !== undefined && !isDatabase(database)) {
    throw new InvalidArgumentError('SqliteExecutionLog `database` must be an open better-sqlite3 Database');
  }
  const synchronous = options.synchronous ?? 'NORMAL';
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw new InvalidArgumentError(
      `SqliteExecutionLog \`synchronous\` must be 'NORMAL' or 'FULL' (got ${String(synchronous)})`,
    );
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0 || busyTimeoutMs > 2_147_483_647) {
    throw new InvalidArgumentError(
      `SqliteExecutionLog \`busyTimeoutMs\` must be a whole number of ms ≥ 0 (got ${busyTimeoutMs})`,
    );
  }
  const readonly = options.readonly ?? false;
  if (typeof readonly !== 'boolean') {
    throw new InvalidArgumentError('SqliteExecutionLog `readonly` must be a boolean');
  }
  const [min, max] = options.pollIntervalMs ?? [5, 200];
  if (!Number.isFinite(min) || !Number.isFinite(max) || min < 1 || max < min) {
    throw new InvalidArgumentError(
      'SqliteExecutionLog `pollIntervalMs` must be [min, max] with 1 ≤ min ≤ max',
    );
  }
  const watch = options.watch ?? true;
  if (typeof watch !== 'boolean') {
    throw new InvalidArgumentError('SqliteExecutionLog `watch` must be a boolean');
  }
  return Object.freeze({
    path,
    database,
    synchronous,
    busyTimeoutMs,
    readonly,
    pollIntervalMs: Object.freeze([min, max] as const),
    watch,
  });
}

function isDatabase(value: unknown): value is SqliteDatabase {
  const db = value as Partial<SqliteDatabase> | null;
  return typeof db?.prepare === 'function' && typeof db.transaction === 'function' && db.open === true;
}
