/**
 * The tables, as Kysely sees them, and the migrations that create them in the
 * store's schema: Kysely `Migration`s defined in code, run by `migrate.ts`.
 *
 * Rules for new migrations: append one with a name that sorts after the last
 * (`0002_...`) and never edit a published one. A schema migrated by newer code
 * is refused by older code with `STORE_SCHEMA_TOO_NEW` (see `migrate.ts`).
 *
 * Times are `bigint` ms since the epoch (read back as numbers: see `db.ts`).
 * No foreign keys: every write that adds history or signals reads the flow row
 * in the same statement or transaction, and purge deletes them explicitly.
 *
 * @module
 */

import { type ColumnType, type Generated, type Kysely, type Migration, sql } from 'kysely';
import { batchClaimMigration } from './batch-claim.js';
import { batchFunctionMigration } from './batch-function.js';
import { batchNotifyMigration } from './batch-notify.js';
import { claimParkMigration } from './claim-park.js';
import { createProcedureMigration } from './create-procedure.js';
import { listedIndexes, listedIndexMigration } from './created-index.js';
import { fillfactorMigration } from './fillfactor.js';
import { flowControlMigration } from './flow-control-schema.js';
import { functionsMigration } from './functions.js';
import { handOffMigration } from './hand-off.js';
import type { IndexBuild } from './index-builds.js';
import { readyIndexes, readyIndexMigration } from './ready-index.js';
import { schedulesMigration } from './schedules.js';
import { wakeIndexMigration } from './wake-index.js';

/** The table listing the migrations run on a schema (`name`, `applied_at`). */
export const MIGRATION_TABLE = 'ergon_migration';

/** A flow row. `wake_at` is generated: when the flow becomes claimable by time, or NULL. */
export interface FlowsTable {
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
  /** A JSON array of `Wait`s (jsonb), written and read by the store only. */
  waits: Generated<unknown>;
  cancel_requested: Generated<boolean>;
  run_count: Generated<number>;
  abandoned_runs: Generated<number>;
  last_error: string | null;
  /** The latest progress the flow reported, encoded (migration 0002); see `FlowRecord.progress`. */
  progress: string | null;
  /** When `progress` was written (migration 0002). */
  progress_at: number | null;
  trace_context: string | null;
  /** Flow control (migration 0003, `flow-control.ts`): the flow's concurrency key. */
  concurrency_key: string | null;
  /** Its own per-key running limit (migration 0003). */
  concurrency_limit: number | null;
  /** The debounce key it was created with (migration 0003). */
  debounce_key: string | null;
  /** Its fair-queueing tag (migration 0003). */
  fair_tag: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** A history row, keyed by `(flow_id, position)`: the proof each operation is recorded once. */
export interface HistoryTable {
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

/** A registered worker (`WorkerRecord`). */
export interface WorkersTable {
  id: string;
  kind: string;
  name: string | null;
  host: string;
  pid: number;
  queues: string[];
  types: string[];
  concurrency: number;
  started_at: number;
  last_seen_at: number;
  stats: string | null;
}

/** The tables as Kysely sees them. */
export interface Schema {
  flows: FlowsTable;
  history: HistoryTable;
  signals: SignalsTable;
  workers: WorkersTable;
}

/** The expression behind `flows.wake_at`. */
const WAKE_AT = sql`case when status in ('pending','suspended') then run_at when status = 'running' then coalesce(lease_expires_at, 0) end`;

function initial(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const s = db.schema.withSchema(schema);
      await s
        .createTable('flows')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('queue', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) =>
          c
            .notNull()
            .check(sql`status in ('pending','running','suspended','completed','failed','cancelled')`),
        )
        .addColumn('priority', 'bigint', (c) => c.notNull())
        .addColumn('fencing_token', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('cancel_requested', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('run_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('abandoned_runs', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('run_at', 'bigint')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'bigint')
        // The one time a flow becomes claimable by time alone; indexed for claims and wake-ups.
        .addColumn('wake_at', 'bigint', (c) => c.generatedAlwaysAs(WAKE_AT).stored())
        .addColumn('parent_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('waits', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
        .addColumn('trace_context', 'text')
        .addColumn('last_error', 'text')
        .addColumn('error', 'text')
        .addColumn('result', 'text')
        .addColumn('input', 'text', (c) => c.notNull())
        .execute();

      // Claims: per (queue, type), ready flows in claim order; wake_at last, so the readiness
      // test is a scan key checked in the index, not on the heap.
      await s
        .createIndex('flows_claim')
        .on('flows')
        .columns(['queue', 'type', 'priority desc', 'run_at', 'id', 'wake_at'])
        .where(sql.ref('wake_at'), 'is not', null)
        .execute();
      // nextWakeAt: min(wake_at) per (queue, type) is one index seek (replaced in 0005, wake-index.ts).
      await s
        .createIndex('flows_wake')
        .on('flows')
        .columns(['queue', 'type', 'wake_at'])
        .where(sql.ref('wake_at'), 'is not', null)
        .execute();
      // listFlows: newest first, keyset-paged by (created_at, id).
      await s.createIndex('flows_created').on('flows').columns(['created_at desc', 'id desc']).execute();
      await s
        .createIndex('flows_parent')
        .on('flows')
        .column('parent_id')
        .where(sql.ref('parent_id'), 'is not', null)
        .execute();
      // purge: terminal flows by finish time.
      await s
        .createIndex('flows_finished')
        .on('flows')
        .column('finished_at')
        .where(sql.ref('finished_at'), 'is not', null)
        .execute();
      // Reaping a dead worker finds the flows it runs without scanning every flow.
      await s
        .createIndex('flows_held')
        .on('flows')
        .column('lease_owner')
        .where(sql.ref('status'), '=', 'running')
        .execute();

      await s
        .createTable('history')
        .addColumn('flow_id', 'text', (c) => c.notNull())
        .addColumn('position', 'bigint', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        // The engine's recording order of final records; stored as given.
        .addColumn('seq', 'bigint')
        .addColumn('wake_at', 'bigint')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('error', 'text')
        .addColumn('result', 'text')
        .addPrimaryKeyConstraint('history_pk', ['flow_id', 'position'])
        .execute();

      await s
        .createTable('signals')
        .addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('flow_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('signals_flow').on('signals').columns(['flow_id', 'name', 'seq']).execute();

      await s
        .createTable('workers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('queues', sql`text[]`, (c) => c.notNull())
        .addColumn('types', sql`text[]`, (c) => c.notNull())
        .addColumn('concurrency', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('stats', 'text')
        .execute();
      await s.createIndex('workers_seen').on('workers').column('last_seen_at').execute();
    },
  };
}

/** A running flow's latest progress (`setProgress`) on its row. */
function progress(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .withSchema(schema)
        .alterTable('flows')
        .addColumn('progress', 'text')
        .addColumn('progress_at', 'bigint')
        .execute();
    },
  };
}

/** Every migration of a store in `schema`, by name. Names sort in the order they run. */
export function migrations(schema: string): Readonly<Record<string, Migration>> {
  return Object.freeze({
    '0001_initial': initial(schema),
    '0002_progress': progress(schema),
    '0003_flow_control': flowControlMigration(schema),
    '0004_schedules': schedulesMigration(schema),
    '0005_wake_key': wakeIndexMigration(schema),
    '0006_functions': functionsMigration(schema),
    '0007_hand_off': handOffMigration(schema),
    '0008_ready_index': readyIndexMigration(schema),
    '0009_create_procedure': createProcedureMigration(schema),
    '0010_batch_function': batchFunctionMigration(schema),
    '0011_fillfactor': fillfactorMigration(schema),
    '0012_claim_park': claimParkMigration(schema),
    '0013_batch_notify': batchNotifyMigration(schema),
    '0014_listed_index': listedIndexMigration(schema),
    '0015_batch_claim': batchClaimMigration(schema),
  });
}

/**
 * The indexes a migration creates on tables that may be large, by migration name: an upgrade builds
 * them before the migration, without blocking writes (`index-builds.ts`).
 */
export function migrationIndexes(schema: string): Readonly<Record<string, readonly IndexBuild[]>> {
  return Object.freeze({
    '0008_ready_index': readyIndexes(schema),
    '0014_listed_index': listedIndexes(schema),
  });
}

/** The schema version this code writes: the number of migrations. */
export const SCHEMA_VERSION = Object.keys(migrations('ergon')).length;
