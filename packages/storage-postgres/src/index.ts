/**
 * `@ergon/storage-postgres`: Ergon's store on PostgreSQL through Kysely's
 * PostgreSQL dialect on `pg`. Tables in a schema of their own, claims with
 * `FOR UPDATE SKIP LOCKED`, fenced one-statement history writes, and
 * LISTEN/NOTIFY wake-ups.
 *
 * ```ts
 * import { PostgresExecutionLog } from '@ergon/storage-postgres';
 * const store = await PostgresExecutionLog.open({ url: 'postgres://postgres@127.0.0.1:5432/app' });
 * ```
 *
 * @module
 */

export { SCHEMA_VERSION as POSTGRES_SCHEMA_VERSION } from './internal/schema.js';
export {
  DEFAULT_APPLICATION_NAME,
  DEFAULT_POOL_SIZE,
  DEFAULT_POSTGRES_URL,
  DEFAULT_SCHEMA,
  type PostgresExecutionLogOptions,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryConfig,
  type PostgresResult,
  validateSchema,
} from './options.js';
export { openPostgresExecutionLog, PostgresExecutionLog } from './postgres-execution-log.js';
