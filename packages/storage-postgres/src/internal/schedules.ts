/**
 * Schedules on PostgreSQL (`schedules.ts` of the contract): the `schedules`
 * table of the store's schema (migration `0004_schedules`) and its
 * primitives, one statement each. The compare-and-set is `UPDATE … WHERE id
 * = $1 AND revision = $2`: of two updates from one revision, the second waits
 * for the first's row lock, re-checks the revision and writes nothing.
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
import { type Compilable, type Kysely, type Migration, sql } from 'kysely';
import type { Context } from './context.js';
import { adhoc } from './db.js';

/** A row of the `schedules` table: core's {@link ScheduleRow} with `paused` as a boolean. */
interface SchedulesTable extends ScheduleRow {
  readonly paused: boolean;
  readonly revision: number;
}

/** Creates the `schedules` table of `schema` and its index by flow type. */
export function schedulesMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const s = db.schema.withSchema(schema);
      await s
        .createTable('schedules')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('queue', 'text', (c) => c.notNull())
        .addColumn('cron', 'text', (c) => c.notNull())
        .addColumn('timezone', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('overlap', 'text', (c) => c.notNull().check(sql`overlap in ('skip','buffer-one','allow')`))
        .addColumn('catchup', 'text', (c) => c.notNull())
        .addColumn('paused', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('next_at', 'bigint')
        .addColumn('last_flow_id', 'text')
        .addColumn('buffered_at', 'bigint')
        .addColumn('revision', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('input', 'text', (c) => c.notNull())
        .execute();
      await s.createIndex('schedules_type').on('schedules').columns(['type', 'id']).execute();
    },
  };
}

/** The row values of a state. */
function columns(state: ScheduleState) {
  return { ...scheduleColumns(state), paused: state.paused };
}

/** A row as a record. @throws STORE_CORRUPT for a catch-up no version writes. */
function toRecord(row: SchedulesTable): ScheduleRecord {
  return scheduleFromRow(row, row.paused);
}

type Db = Kysely<{ schedules: SchedulesTable }>;

/** The schedules of one PostgreSQL store. */
export class PostgresSchedules implements ScheduleLog {
  readonly #ctx: Context;
  readonly #k: Db;

  constructor(ctx: Context, kysely: Kysely<never>) {
    this.#ctx = ctx;
    this.#k = kysely as unknown as Db;
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.createSchedule} Insert if absent, then read: both idempotent. */
  createSchedule(request: NewSchedule): Promise<CreateScheduleResult> {
    return this.#ctx.db.call('create schedule', 'idempotent', async () => {
      const inserted = await this.#rows(
        this.#k
          .insertInto('schedules')
          .values({
            ...columns(request.state),
            id: request.id,
            revision: 1,
            created_at: request.now,
            updated_at: request.now,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .returningAll(),
      );
      const row = inserted[0] ?? (await this.#read(request.id));
      if (!row)
        throw new ErgonError(ErrorCode.INTERNAL, `schedule ${request.id} vanished while being created`);
      return { schedule: toRecord(row), created: inserted.length > 0 };
    });
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.getSchedule} */
  getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return this.#ctx.db.call('get schedule', 'idempotent', async () => {
      const row = await this.#read(id);
      return row ? toRecord(row) : undefined;
    });
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.listSchedules} */
  listSchedules(query: ScheduleQuery): Promise<ScheduleRecord[]> {
    return this.#ctx.db.call('list schedules', 'idempotent', async () => {
      let q = this.#k.selectFrom('schedules').selectAll().orderBy('id').limit(query.limit);
      if (query.after !== undefined) q = q.where('id', '>', query.after);
      if (query.types) q = q.where('type', 'in', [...query.types]);
      return (await this.#rows(q)).map(toRecord);
    });
  }

  /**
   * {@inheritDoc @ergon/core!ScheduleLog.updateSchedule} One statement. Not repeated after a
   * lost connection: the first may have applied, and its repeat would then report a lost race.
   */
  updateSchedule(request: UpdateScheduleRequest): Promise<ScheduleRecord | undefined> {
    return this.#ctx.db.call('update schedule', 'never', async () => {
      const [row] = await this.#rows(
        this.#k
          .updateTable('schedules')
          .set({ ...columns(request.state), revision: sql<number>`revision + 1`, updated_at: request.now })
          .where('id', '=', request.id)
          .where('revision', '=', request.revision)
          .returningAll(),
      );
      return row ? toRecord(row) : undefined;
    });
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.deleteSchedule} */
  deleteSchedule(request: DeleteScheduleRequest): Promise<boolean> {
    return this.#ctx.db.call('delete schedule', 'never', async () => {
      const deleted = await this.#rows<{ id: string }>(
        this.#k.deleteFrom('schedules').where('id', '=', request.id).returning('id'),
      );
      return deleted.length > 0;
    });
  }

  #read(id: string): Promise<SchedulesTable | undefined> {
    return this.#rows(this.#k.selectFrom('schedules').selectAll().where('id', '=', id)).then((r) => r[0]);
  }

  async #rows<Row = SchedulesTable>(query: Compilable): Promise<Row[]> {
    return (await this.#ctx.db.pool.query<Row>(adhoc(query))).rows;
  }
}
