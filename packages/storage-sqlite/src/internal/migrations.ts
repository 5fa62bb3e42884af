/**
 * The migrations that create and upgrade the tables (`schema.ts`), defined in
 * code and run by Kysely's `Migrator`.
 *
 * Rules for new migrations: append one with a name that sorts after the last
 * (`0003_...`), end it with `setSchemaVersion(db, n)`, and never edit a
 * published one. Version 2 rekeyed history (`history-keys.ts`). A file upgraded by newer code is refused by older code with
 * `STORE_SCHEMA_TOO_NEW` (see `open.ts`).
 *
 * @module
 */
import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';
import { controlledMigration } from './fair-index.js';
import { flowControlMigration } from './flow-control-schema.js';
import { historyKeys } from './history-keys.js';
import { dueIndexDrop, readyIndexesMigration, runningOwnerMigration } from './ready-indexes.js';
import { schedulesMigration } from './schedules.js';
import { workersMigration } from './workers.js';

/**
 * `PRAGMA application_id` of every Ergon database ("ERGN" in ASCII). Together
 * with the migration table it tells an Ergon file from a foreign one.
 */
export const APPLICATION_ID = 0x4552474e;

/** Name of Kysely's migration table in an Ergon database. */
export const MIGRATION_TABLE = 'ergon_migration';
/** Name of Kysely's migration lock table in an Ergon database. */
export const MIGRATION_LOCK_TABLE = 'ergon_migration_lock';

async function setSchemaVersion(db: Kysely<unknown>, version: number): Promise<void> {
  // Pragmas take no parameters; `version` is a constant of this file.
  await sql.raw(`PRAGMA user_version = ${Math.trunc(version)}`).execute(db);
  await sql.raw(`PRAGMA application_id = ${APPLICATION_ID}`).execute(db);
}

const initial: Migration = {
  async up(db) {
    // Small, hot columns first and encoded values last: a fencing check reads only the
    // start of the row and never walks the overflow pages of a large input or result.
    await db.schema
      .createTable('flows')
      .addColumn('id', 'text', (c) => c.primaryKey().notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('queue', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) =>
        c.notNull().check(sql`status in ('pending','running','suspended','completed','failed','cancelled')`),
      )
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('fencing_token', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('run_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('run_at', 'integer')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'integer')
      // The one time a flow becomes claimable by time alone; indexed for claims and wake-ups.
      .addColumn('wake_at', 'integer', (c) =>
        c.generatedAlwaysAs(
          sql`case when status in ('pending','suspended') then run_at when status = 'running' then coalesce(lease_expires_at, 0) end`,
        ),
      )
      .addColumn('parent_id', 'text')
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'integer', (c) => c.notNull())
      .addColumn('finished_at', 'integer')
      .addColumn('waits', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('trace_context', 'text')
      .addColumn('error', 'text')
      .addColumn('result', 'text')
      .addColumn('input', 'text', (c) => c.notNull())
      .execute();

    // Claims: per (queue, type), ready flows in claim order; wake_at last so the filter needs no row lookup.
    await db.schema
      .createIndex('flows_claim')
      .on('flows')
      .columns(['queue', 'type', 'priority desc', 'run_at', 'id', 'wake_at'])
      .where('wake_at', 'is not', null)
      .execute();
    // nextWakeAt: min(wake_at) per (queue, type) is one index seek.
    await db.schema
      .createIndex('flows_wake')
      .on('flows')
      .columns(['queue', 'type', 'wake_at'])
      .where('wake_at', 'is not', null)
      .execute();
    // listFlows: newest first, keyset-paged by (created_at, id).
    await db.schema.createIndex('flows_created').on('flows').columns(['created_at', 'id']).execute();
    await db.schema
      .createIndex('flows_parent')
      .on('flows')
      .column('parent_id')
      .where('parent_id', 'is not', null)
      .execute();
    // purge: terminal flows by finish time.
    await db.schema
      .createIndex('flows_finished')
      .on('flows')
      .column('finished_at')
      .where('finished_at', 'is not', null)
      .execute();

    // The primary key is the proof that each operation is recorded once; WITHOUT ROWID
    // keeps one b-tree per insert and stores a flow's history contiguously.
    await db.schema
      .createTable('history')
      .addColumn('flow_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('completed','failed','waiting')`))
      .addColumn('attempts', 'integer', (c) => c.notNull())
      // The engine's recording order of final records; stored as given.
      .addColumn('seq', 'integer')
      .addColumn('wake_at', 'integer')
      .addColumn('started_at', 'integer', (c) => c.notNull())
      .addColumn('finished_at', 'integer')
      .addColumn('error', 'text')
      .addColumn('result', 'text')
      .addPrimaryKeyConstraint('history_pk', ['flow_id', 'position'])
      .modifyEnd(sql`without rowid`)
      .execute();

    await db.schema
      .createTable('signals')
      .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('flow_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('sent_at', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('signals_flow').on('signals').columns(['flow_id', 'name', 'seq']).execute();

    // No AUTOINCREMENT (it costs a page write per event): pruning removes the oldest rows only,
    // so the newest row stays and rowids keep increasing.
    await db.schema
      .createTable('events')
      .addColumn('seq', 'integer', (c) => c.primaryKey())
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('queue', 'text')
      .addColumn('flow_id', 'text')
      .addColumn('status', 'text')
      .addColumn('at', 'integer')
      .execute();

    await setSchemaVersion(db, 1);
  },
};

/** Version 4: what the poison rule counts (abandoned runs in a row) and the last cause. */
const abandonedRuns: Migration = {
  async up(db) {
    await db.schema
      .alterTable('flows')
      .addColumn('abandoned_runs', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('flows').addColumn('last_error', 'text').execute();
    await setSchemaVersion(db, 4);
  },
};

/**
 * Version 5: a running flow's latest progress (`setProgress`). Added at the end of the row,
 * after the encoded values: the hot fencing reads never reach it.
 */
const progress: Migration = {
  async up(db) {
    await db.schema.alterTable('flows').addColumn('progress', 'text').execute();
    await db.schema.alterTable('flows').addColumn('progress_at', 'integer').execute();
    await setSchemaVersion(db, 5);
  },
};

/** `migration`, then the schema version it brings the file to, in the same transaction. */
function upTo(version: number, migration: Migration): Migration {
  return {
    async up(db) {
      await migration.up(db);
      await setSchemaVersion(db, version);
    },
  };
}

/** Every migration, by name. Names sort in the order they run. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_initial': initial,
  '0002_history_keys': upTo(2, historyKeys),
  '0003_workers': upTo(3, workersMigration),
  '0004_abandoned_runs': abandonedRuns,
  '0005_progress': progress,
  '0006_flow_control': upTo(6, flowControlMigration),
  '0007_schedules': upTo(7, schedulesMigration),
  '0008_ready_indexes': upTo(8, readyIndexesMigration),
  // A change-feed row may carry all the events of its commit (`feed.ts`).
  '0009_feed_batches': upTo(9, {
    async up(db) {
      await db.schema.alterTable('events').addColumn('batch', 'text').execute();
    },
  }),
  '0010_running_owner': upTo(10, runningOwnerMigration),
  '0011_no_due_index': upTo(11, dueIndexDrop),
  // Only flows of controlled queues in the fair index (`fair-index.ts`).
  '0012_controlled_queues': upTo(12, controlledMigration),
});

/** The schema version this code writes: the number of migrations. */
export const SCHEMA_VERSION = Object.keys(MIGRATIONS).length;

/** The migrations as a Kysely provider (in code, not files on disk). */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};
