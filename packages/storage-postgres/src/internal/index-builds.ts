/**
 * Indexes an upgrade builds without blocking writes. A migration's
 * `CREATE INDEX` inside the migrating transaction holds a SHARE lock on its
 * table until that transaction ends: on a large `flows` table every create,
 * claim and finish of every process waited for the whole build. So before the
 * transaction, opening builds the indexes of pending migrations with
 * `CREATE INDEX CONCURRENTLY` (writes go on; it waits for the transactions
 * running when it starts), each on its own, outside any transaction. The
 * migration itself then finds them built (`create index if not exists`); on a
 * new schema, whose tables do not exist yet, it builds them as before, on
 * empty tables.
 *
 * A concurrent build that failed (a lost connection, a duplicate key) leaves
 * an invalid index behind, which PostgreSQL keeps up to date but never reads:
 * an invalid one is dropped and built again, here and in the migration, so
 * no migration is ever recorded over an index that does not work.
 *
 * One process builds at a time, under a session advisory lock of its own,
 * taken with `pg_try_advisory_lock` and retried: a session waiting in
 * `pg_advisory_lock` holds a snapshot, which a concurrent build waits for, and
 * the two would deadlock. It is not the migrations' lock either, for the same
 * reason (an older process waits for that one in a transaction).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { PostgresPoolClient } from '../options.js';
import { pgCode } from './errors.js';

/** An index a migration creates, by name; `definition` is what follows `on` (table, columns, predicate). */
export interface IndexBuild {
  readonly name: string;
  readonly definition: RawBuilder<unknown>;
}

/** How long a process waits between tries of the build lock. */
const LOCK_RETRY_MS = 100;

/**
 * Creates the index unless a valid one of its name exists, dropping an invalid one first;
 * `concurrently`: without blocking writes, outside a transaction.
 */
export async function ensureIndex(
  db: Kysely<unknown>,
  schema: string,
  index: IndexBuild,
  concurrently: boolean,
): Promise<void> {
  const mode = sql.raw(concurrently ? 'concurrently ' : '');
  const { rows } = await sql<{ valid: boolean }>`select i.indisvalid as valid from pg_index i
      join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${schema} and c.relname = ${index.name}`.execute(db);
  if (rows[0]?.valid === true) return;
  if (rows[0]) await sql`drop index ${mode}if exists ${sql.id(schema, index.name)}`.execute(db);
  await sql`create index ${mode}if not exists ${sql.id(index.name)} on ${index.definition}`.execute(db);
}

/**
 * Builds the indexes of the `pending` migrations (`builds` by migration name) concurrently, on
 * `client` in autocommit. Skips a schema with no migration run yet (its tables are made empty), and
 * an index whose table or columns a pending migration has yet to create (the migration builds it).
 */
export async function buildIndexes(
  client: PostgresPoolClient,
  db: Kysely<unknown>,
  request: { schema: string; lockKey: string; builds: readonly IndexBuild[] },
): Promise<void> {
  if (request.builds.length === 0) return;
  while (!(await tryLock(client, request.lockKey))) await sleep(LOCK_RETRY_MS);
  try {
    for (const index of request.builds) {
      try {
        await ensureIndex(db, request.schema, index, true);
      } catch (error) {
        // undefined_table, undefined_column: a migration not run yet makes what the index is on.
        if (pgCode(error) !== '42P01' && pgCode(error) !== '42703') throw error;
      }
    }
  } finally {
    // A connection that failed holds the lock until it is closed (the caller closes it).
    await client.query('select pg_advisory_unlock($1::bigint)', [request.lockKey]).catch(() => undefined);
  }
}

async function tryLock(client: PostgresPoolClient, key: string): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(
    'select pg_try_advisory_lock($1::bigint) as locked',
    [key],
  );
  return rows[0]?.locked === true;
}

/** The build lock's key for `schema` (not the migrations' key: see the module notes). */
export function buildLockKey(schema: string): string {
  return createHash('sha1').update(`ergon-index-builds:${schema}`).digest().readBigInt64BE(0).toString();
}
