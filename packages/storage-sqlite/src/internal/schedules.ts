/**
 * Schedules on SQLite (`schedules.ts` of the contract): the `schedules` table
 * (migration `0006_schedules`), and its primitives, each one statement or one
 * IMMEDIATE transaction. The compare-and-set is `UPDATE … WHERE id = ? AND
 * revision = ?`: SQLite's write lock makes two updates from one revision
 * succeed at most once, across connections and processes.
 *
 * @module
 */
import {
  type CreateScheduleResult,
  type DeleteScheduleRequest,
  ErgonError,
  ErrorCode,
  type NewSchedule,
  type ScheduleLog,
  type ScheduleQuery,
  type ScheduleRecord,
  type ScheduleRow,
  type ScheduleState,
  scheduleColumns,
  scheduleFromRow,
  type UpdateScheduleRequest,
} from '@ergon/core';
import type Database from 'better-sqlite3';
import { type Compilable, type Kysely, type Migration, sql } from 'kysely';
import type { TransactionRunner } from './runner.js';
import { Prepared, param } from './statements.js';

/** A row of the `schedules` table: core's {@link ScheduleRow} with `paused` as 0 or 1. */
export interface SchedulesTable extends ScheduleRow {
  readonly paused: number;
  readonly revision: number;
}

/** Creates the `schedules` table and its index by flow type. */
export const schedulesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('schedules')
      .addColumn('id', 'text', (c) => c.primaryKey().notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('queue', 'text', (c) => c.notNull())
      .addColumn('cron', 'text', (c) => c.notNull())
      .addColumn('timezone', 'text', (c) => c.notNull())
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('overlap', 'text', (c) => c.notNull().check(sql`overlap in ('skip','buffer-one','allow')`))
      .addColumn('catchup', 'text', (c) => c.notNull())
      .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_at', 'integer')
      .addColumn('last_flow_id', 'text')
      .addColumn('buffered_at', 'integer')
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'integer', (c) => c.notNull())
      .addColumn('input', 'text', (c) => c.notNull())
      .execute();
    // A worker lists the schedules of its flow types.
    await db.schema.createIndex('schedules_type').on('schedules').columns(['type', 'id']).execute();
  },
};

/** The row values of a state. */
function stateColumns(state: ScheduleState) {
  return { ...scheduleColumns(state), paused: state.paused ? 1 : 0 };
}

/** A row as a record. @throws STORE_CORRUPT for a catch-up no version writes. */
export function toScheduleRecord(row: SchedulesTable): ScheduleRecord {
  return scheduleFromRow(row, row.paused === 1);
}

type Db = Kysely<{ schedules: SchedulesTable }>;

function prepare(db: Database.Database, k: Db) {
  const p = <Row = unknown>(query: Compilable) => new Prepared<Row>(db, query);
  const str = (name: string) => param<string>(name);
  const num = (name: string) => param<number>(name);
  const values = {
    type: str('type'),
    queue: str('queue'),
    cron: str('cron'),
    timezone: str('timezone'),
    input: str('input'),
    priority: num('priority'),
    overlap: str('overlap'),
    catchup: str('catchup'),
    paused: num('paused'),
    next_at: param<number | null>('next_at'),
    last_flow_id: param<string | null>('last_flow_id'),
    buffered_at: param<number | null>('buffered_at'),
  };
  return {
    insert: p(
      k
        .insertInto('schedules')
        .values({
          ...values,
          id: str('id'),
          revision: 1,
          created_at: num('now'),
          updated_at: num('now'),
        })
        .onConflict((oc) => oc.column('id').doNothing()),
    ),
    get: p<SchedulesTable>(k.selectFrom('schedules').selectAll().where('id', '=', str('id'))),
    update: p<SchedulesTable>(
      k
        .updateTable('schedules')
        .set({ ...values, revision: sql<number>`revision + 1`, updated_at: num('now') })
        .where('id', '=', str('id'))
        .where('revision', '=', num('revision'))
        .returningAll(),
    ),
    delete: p(k.deleteFrom('schedules').where('id', '=', str('id'))),
  };
}

/** The schedules of one SQLite store. */
export class SqliteSchedules implements ScheduleLog {
  readonly #runner: TransactionRunner;
  readonly #k: Db;
  readonly #db: Database.Database;
  #prepared: ReturnType<typeof prepare> | undefined;

  constructor(db: Database.Database, kysely: Kysely<never>, runner: TransactionRunner) {
    this.#db = db;
    this.#k = kysely as unknown as Db;
    this.#runner = runner;
  }

  /** The statements, prepared on first use (a read-only store of an older schema has no table yet). */
  get #q(): ReturnType<typeof prepare> {
    this.#prepared ??= prepare(this.#db, this.#k);
    return this.#prepared;
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.createSchedule} One IMMEDIATE transaction. */
  createSchedule(request: NewSchedule): Promise<CreateScheduleResult> {
    return this.#runner.write(() => {
      const created =
        this.#q.insert.run({ ...stateColumns(request.state), id: request.id, now: request.now }) > 0;
      const row = this.#q.get.get({ id: request.id });
      if (!row)
        throw new ErgonError(ErrorCode.INTERNAL, `schedule ${request.id} vanished while being created`);
      return { schedule: toScheduleRecord(row), created };
    });
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.getSchedule} */
  getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return this.#runner.read(() => {
      const row = this.#q.get.get({ id });
      return row ? toScheduleRecord(row) : undefined;
    });
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.listSchedules} */
  listSchedules(query: ScheduleQuery): Promise<ScheduleRecord[]> {
    return this.#runner.read(() => {
      let q = this.#k.selectFrom('schedules').selectAll().orderBy('id').limit(query.limit);
      if (query.after !== undefined) q = q.where('id', '>', query.after);
      if (query.types) q = q.where('type', 'in', [...query.types]);
      const compiled = q.compile();
      const rows = this.#db.prepare<unknown[], SchedulesTable>(compiled.sql).all(...compiled.parameters);
      return rows.map(toScheduleRecord);
    });
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.updateSchedule} One statement: compare the revision and write. */
  updateSchedule(request: UpdateScheduleRequest): Promise<ScheduleRecord | undefined> {
    return this.#runner.write(() => {
      const row = this.#q.update.get({
        ...stateColumns(request.state),
        id: request.id,
        revision: request.revision,
        now: request.now,
      });
      return row ? toScheduleRecord(row) : undefined;
    });
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.deleteSchedule} */
  deleteSchedule(request: DeleteScheduleRequest): Promise<boolean> {
    return this.#runner.write(() => this.#q.delete.run({ id: request.id }) > 0);
  }
}
