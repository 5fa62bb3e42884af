/**
 * The database schema: row types for Kysely and the migrations that create and
 * upgrade the tables, defined in code and run by Kysely's `Migrator`.
 *
 * Rules for new migrations: append one with a name that sorts after the last
 * (`0003_...`), end it with `setSchemaVersion(db, n)`, and never edit a
 * published one. Version 2 rekeyed history (`history-keys.ts`). A file upgraded by newer code is refused by older code with
 * `STORE_SCHEMA_TOO_NEW` (see `open.ts`).
 *
 * No foreign keys: every write that adds history or signals first reads the
 * flow row in the same transaction (or the same statement), and purge deletes children
 * explicitly, so a foreign-key check would only add a lookup to the hot path.
 *
 * @module
 */
import {
  type ColumnType,
  type Generated,
  type Kysely,
  type Migration,
  type MigrationProvider,
  sql,
} from 'kysely';
import { flowControlMigration } from './flow-control-schema.js';
import { historyKeys } from './history-keys.js';
import { schedulesMigration } from './schedules.js';
import { type WorkersTable, workersMigration } from './workers.js';

/**
 * `PRAGMA application_id` of every Ergon database ("ERGN" in ASCII). Together
 * with the migration table it tells an Ergon file from a foreign one.
 */
export const APPLICATION_ID = 0x4552474e;

/** Name of Kysely's migration table in an Ergon database. */
export const MIGRATION_TABLE = 'ergon_migration';
/** Name of Kysely's migration lock table in an Ergon database. */
export const MIGRATION_LOCK_TABLE = 'ergon_migration_lock';

/**
 * A flow row. `wake_at` is generated: when the flow becomes claimable, or NULL.
 * `num` is the row's stable integer key (from schema version 2): history keys derive from it.
 */
export interface FlowsTable {
  num: Generated<number>;
  id: string;
  type: string;
  queue: string;
  status: string;
  priority: number;
  input: string;
  result: string | null;
  error: string | null;
  parent_id: string | null;
  run_at: number | null;
  wake_at: ColumnType<number | null, never, never>;
  fencing_token: Generated<number>;
  lease_owner: string | null;
  lease_expires_at: number | null;
  /** JSON array of `Wait`s, written and read by the store only. */
  waits: Generated<string>;
  cancel_requested: Generated<number>;
  run_count: Generated<number>;
  /** Runs in a row abandoned without progress (schema version 4); see `FlowRecord.abandonedRuns`. */
  abandoned_runs: Generated<number>;
  /** The encoded error of the last abandoned run (schema version 4). */
  last_error: string | null;
  /** The latest progress the flow reported, encoded (schema version 5); see `FlowRecord.progress`. */
  progress: string | null;
  /** When `progress` was written (schema version 5). */
  progress_at: number | null;
  trace_context: string | null;
  /** Flow control (schema version 6, `flow-control.ts`): the flow's concurrency key. */
  concurrency_key: string | null;
  /** Its own per-key running limit (schema version 6). */
  concurrency_limit: number | null;
  /** The debounce key it was created with (schema version 6). */
  debounce_key: string | null;
  /** Its fair-queueing tag in a controlled queue (schema version 6). */
  fair_tag: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/**
 * A history row. `id` is the key: {@link historyId} of the flow's `num` and the position
 * (unique per `(flow_id, position)`), or negative for a record that does not fit it (unique
 * through the partial index `history_spilled`).
 */
export interface HistoryTable {
  id: number;
  flow_id: string;
  position: number;
  key: string;
  kind: string;
  status: string;
  attempts: number;
  seq: number | null;
  wake_at: number | null;
  started_at: number;
  finished_at: number | null;
  error: string | null;
  result: string | null;
}

/** A buffered signal; `seq` orders signals first in, first out. */
export interface SignalsTable {
  seq: Generated<number>;
  flow_id: string;
  name: string;
  payload: string;
  sent_at: number;
}

/** The change feed other processes read to turn commits into store events. */
export interface EventsTable {
  seq: Generated<number>;
  /** The writing process, so a process skips the events it already emitted. */
  origin: string;
  type: string;
  queue: string | null;
  flow_id: string | null;
  status: string | null;
  at: number | null;
}

/** The tables as Kysely sees them. */
export interface Schema {
  flows: FlowsTable;
  history: HistoryTable;
  signals: SignalsTable;
  events: EventsTable;
  workers: WorkersTable;
}

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

/** Every migration, by name. Names sort in the order they run. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_initial': initial,
  '0002_history_keys': {
    async up(db) {
      await historyKeys.up(db);
      await setSchemaVersion(db, 2);
    },
  },
  '0003_workers': {
    async up(db) {
      await workersMigration.up(db);
      await setSchemaVersion(db, 3);
    },
  },
  '0004_abandoned_runs': abandonedRuns,
  '0005_progress': progress,
  '0006_flow_control': {
    async up(db) {
      await flowControlMigration.up(db);
      await setSchemaVersion(db, 6);
    },
  },
  '0007_schedules': {
    async up(db) {
      await schedulesMigration.up(db);
      // Its place in the order migrations run (by name).
      await setSchemaVersion(db, Object.keys(MIGRATIONS).sort().indexOf('0007_schedules') + 1);
    },
  },
});

/** The schema version this code writes: the number of migrations. */
export const SCHEMA_VERSION = Object.keys(MIGRATIONS).length;

/** The migrations as a Kysely provider (in code, not files on disk). */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};
