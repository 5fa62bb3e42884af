/**
 * `@ergon/storage-sqlite`: Ergon's embedded default store. One SQLite file in
 * WAL mode through Kysely and better-sqlite3; safe for several processes.
 *
 * ```ts
 * import { SqliteExecutionLog } from '@ergon/storage-sqlite';
 * const store = await SqliteExecutionLog.open({ path: 'ergon.db' });
 * ```
 *
 * @module
 */

export { SCHEMA_VERSION as SQLITE_SCHEMA_VERSION } from './internal/migrations.js';
export type { SqliteDatabase, SqliteExecutionLogOptions, SqliteSynchronous } from './options.js';
export { openSqliteExecutionLog, SqliteExecutionLog } from './sqlite-execution-log.js';
