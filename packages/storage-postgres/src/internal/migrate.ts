/**
 * Opening a schema: created when missing, refused when it belongs to someone
 * else (`STORE_FOREIGN`) or was migrated by newer code (`STORE_SCHEMA_TOO_NEW`),
 * and brought up to date. Every pending migration (Kysely `Migration`s defined
 * in code, see `schema.ts`) runs in one transaction under an advisory lock of
 * the schema, so worker processes starting together migrate it once, and a
 * failed migration leaves nothing behind (PostgreSQL's DDL is transactional).
 * Before that transaction, an existing schema's pending migrations have their
 * indexes built without blocking writes (`index-builds.ts`).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { ErrorCode } from '@ergon/core';
import { Kysely, PostgresDialect } from 'kysely';
import type { PostgresPool, PostgresPoolClient } from '../options.js';
import { checkout } from './db.js';
import { permanentError } from './errors.js';
import { buildIndexes, buildLockKey } from './index-builds.js';
import { MIGRATION_TABLE, migrationIndexes, migrations } from './schema.js';

/** An advisory lock key per schema (a signed 64-bit number, as text). */
function lockKey(schema: string): string {
  return createHash('sha1').update(`ergon-schema:${schema}`).digest().readBigInt64BE(0).toString();
}

/**
 * Creates or upgrades the store's tables in `schema`; returns the names of the migrations it ran.
 * @throws ErgonError `STORE_FOREIGN`, `STORE_SCHEMA_TOO_NEW`; driver errors as they come (mapped by the caller).
 */
export async function migrate(pool: PostgresPool, schema: string): Promise<string[]> {
  await buildPendingIndexes(pool, schema);
  const known = migrations(schema);
  const { client, release } = await checkout(pool);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('select pg_advisory_xact_lock($1::bigint)', [lockKey(schema)]);
    const applied = await appliedMigrations(client, schema);
    const pending = Object.keys(known)
      .sort()
      .filter((name) => !applied.includes(name));
    if (pending.length > 0) {
      // A lost schema creation is redone by the next open: no need to wait for the WAL flush.
      await client.query('set local synchronous_commit = off');
      await client.query(`create schema if not exists "${schema}"`);
      await client.query(
        `create table if not exists "${schema}"."${MIGRATION_TABLE}" (name text primary key, applied_at timestamptz not null default now())`,
      );
      const db = onClient(client);
      for (const name of pending) {
        await known[name]?.up(db);
        await client.query(`insert into "${schema}"."${MIGRATION_TABLE}" (name) values ($1)`, [name]);
      }
    }
    await client.query('COMMIT');
    return pending;
  } catch (error) {
    broken = await client.query('ROLLBACK').then(
      () => undefined,
      (rollbackError: Error) => rollbackError,
    );
    throw error;
  } finally {
    release(broken);
  }
}

/**
 * Builds the indexes of the pending migrations of a schema that has run some, concurrently
 * (`index-builds.ts`), before the migrations' transaction.
 */
async function buildPendingIndexes(pool: PostgresPool, schema: string): Promise<void> {
  const builds = migrationIndexes(schema);
  const { client, release } = await checkout(pool);
  let broken: Error | undefined;
  try {
    const applied = await appliedMigrations(client, schema);
    if (applied.length === 0) return;
    const pending = Object.keys(builds)
      .sort()
      .filter((name) => !applied.includes(name));
    await buildIndexes(client, onClient(client), {
      schema,
      lockKey: buildLockKey(schema),
      builds: pending.flatMap((name) => builds[name] ?? []),
    });
  } catch (error) {
    // Closed, not reused: it may still hold the build lock.
    broken = error as Error;
    throw error;
  } finally {
    release(broken);
  }
}

/** The migrations already run on `schema`. @throws STORE_FOREIGN, STORE_SCHEMA_TOO_NEW. */
async function appliedMigrations(client: PostgresPoolClient, schema: string): Promise<string[]> {
  const tables = (
    await client.query<{ table_name: string }>(
      'select table_name from information_schema.tables where table_schema = $1',
      [schema],
    )
  ).rows.map((r) => r.table_name);
  if (tables.length === 0) return [];
  if (!tables.includes(MIGRATION_TABLE)) {
    throw permanentError(
      ErrorCode.STORE_FOREIGN,
      `schema ${JSON.stringify(schema)} holds tables that are not an Ergon store's (${tables.slice(0, 5).join(', ')}): ` +
        'give the store a schema of its own (option `schema`)',
      { details: { schema } },
    );
  }
  const applied = (
    await client.query<{ name: string }>(`select name from "${schema}"."${MIGRATION_TABLE}" order by name`)
  ).rows.map((r) => r.name);
  const unknown = applied.filter((name) => !(name in migrations(schema)));
  if (unknown.length > 0) {
    throw permanentError(
      ErrorCode.STORE_SCHEMA_TOO_NEW,
      `schema ${JSON.stringify(schema)} was migrated by a newer @ergon/storage-postgres (${unknown.join(', ')}): upgrade the package`,
      { details: { schema, unknown } },
    );
  }
  return applied;
}

/** Kysely on one connection inside its transaction (never ended by Kysely). */
function onClient(client: PostgresPoolClient): Kysely<unknown> {
  const connection = {
    query: (text: string, values: unknown[]) => client.query(text, values),
    release: () => undefined,
  };
  return new Kysely({
    dialect: new PostgresDialect({ pool: { connect: async () => connection as never, end: async () => {} } }),
  });
}
