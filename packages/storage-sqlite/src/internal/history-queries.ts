/**
 * The history, signal and event-feed statements of a connection (part of
 * `queries.ts`'s prepared queries), and the column lists a history write binds.
 *
 * @module
 */
import type Database from 'better-sqlite3';
import { type Compilable, type Kysely, sql } from 'kysely';
import { PACKED_FLOWS, PACKED_POSITIONS } from './history-keys.js';
import type { EventRow } from './queries.js';
import type { HistoryRow, SignalRow } from './rows.js';
import type { Schema } from './schema.js';
import { limitParam, Ordered, Prepared, param } from './statements.js';

/** The columns of a history record besides its key `id`, in table order. */
const HISTORY_FIELDS = [
  'flow_id',
  'position',
  'key',
  'kind',
  'status',
  'attempts',
  'seq',
  'wake_at',
  'started_at',
  'finished_at',
  'error',
  'result',
] as const;

/** {@link HISTORY_FIELDS} as a select list. */
const HISTORY_COLUMNS = sql.join(HISTORY_FIELDS.map((c) => sql.ref(c)));

/** {@link RECORD_VALUES} after `flowId` and `position`. */
const RECORD_VALUES_AFTER_POSITION = [
  'key',
  'kind',
  'status',
  'attempts',
  'seq',
  'wakeAt',
  'startedAt',
  'finishedAt',
  'error',
  'result',
].map((name) => param(name));

/** A record's values in {@link HISTORY_FIELDS} order, named as in `OperationRecord`. */
const RECORD_VALUES = sql.join([param('flowId'), param('position'), ...RECORD_VALUES_AFTER_POSITION]);

/** The upsert's update: every field. Its `where history.status = 'waiting'` keeps a final record. */
const KEEP_FINAL = sql.join(
  HISTORY_FIELDS.filter((c) => c !== 'flow_id' && c !== 'position').map(
    (c) => sql`${sql.ref(c)} = ${sql.ref(`excluded.${c}`)}`,
  ),
);

/** The parameters of `recordFenced`, in order (checked when it is prepared). */
export const RECORD_FENCED_PARAMS = [
  'position',
  'position',
  'key',
  'kind',
  'status',
  'attempts',
  'seq',
  'wakeAt',
  'startedAt',
  'finishedAt',
  'error',
  'result',
  'flowId',
  'token',
] as const;

/** The parameters of `recordByNum`, in order (checked when it is prepared). */
export const RECORD_BY_NUM_PARAMS = ['id', 'position', ...RECORD_FENCED_PARAMS.slice(2), 'num'] as const;

/** Prepares the history, signal and event statements on `db`. */
export function prepareHistoryQueries(db: Database.Database, k: Kysely<Schema>) {
  const p = <Row = unknown>(query: Compilable) => new Prepared<Row>(db, query);
  const str = (name: string) => param<string>(name);
  const num = (name: string) => param<number>(name);
  const nullableStr = (name: string) => param<string | null>(name);
  const nullableNum = (name: string) => param<number | null>(name);

  return {
    history: p<HistoryRow>({
      compile: () =>
        sql`select ${sql.join(HISTORY_FIELDS.map((c) => sql.ref(`h.${c}`)))}
            from flows f join history h
              on h.id between f.num * ${sql.lit(PACKED_POSITIONS)} and f.num * ${sql.lit(PACKED_POSITIONS)} + ${sql.lit(PACKED_POSITIONS - 1)}
            where f.id = ${str('flowId')} and f.num < ${sql.lit(PACKED_FLOWS)}
            order by h.id`.compile(k),
    }),
    // Its spilled records (see history-keys.ts); almost always none. INDEXED BY: the planner
    // would rather walk the negative keys of every flow.
    spilled: p<HistoryRow>({
      compile: () =>
        sql`select ${HISTORY_COLUMNS} from history indexed by history_spilled
            where flow_id = ${str('flowId')} and id < 0 order by position`.compile(k),
    }),
    historyById: p<HistoryRow>(k.selectFrom('history').select(HISTORY_FIELDS).where('id', '=', num('id'))),
    spilledAt: p<HistoryRow>({
      compile: () =>
        sql`select ${HISTORY_COLUMNS} from history indexed by history_spilled
            where flow_id = ${str('flowId')} and position = ${num('position')} and id < 0`.compile(k),
    }),
    /**
     * The hot path, fencing check and first write in one statement: writes the record only if
     * `token` holds the flow's lease, no cancellation is pending, the key is packed and no record
     * holds the position yet. Changes no row otherwise; then `recordOperation` runs, which finds
     * out why, replaces a waiting record, or fails as the write itself would (a NULL where a
     * value is required, which `or ignore` skips here too).
     *
     * `or ignore` and no upsert: the program of `on conflict do update` (rarely needed here: a
     * waiting record is the fallback's to replace) cost ~3.5k instructions a record even when no
     * record held the position (callgrind, sqlite3VdbeExec).
     */
    recordFenced: new Ordered(
      db,
      {
        compile: () =>
          sql`insert or ignore into history (id, ${HISTORY_COLUMNS})
              select num * ${sql.lit(PACKED_POSITIONS)} + ${num('position')}, id, ${num('position')},
                ${sql.join(RECORD_VALUES_AFTER_POSITION)}
              from flows
              where id = ${str('flowId')} and fencing_token = ${num('token')} and status = 'running'
                and cancel_requested = 0 and num < ${sql.lit(PACKED_FLOWS)}`.compile(k),
      },
      RECORD_FENCED_PARAMS,
    ),
    /**
     * {@link recordFenced} for a flow claimed through this connection (`held-flows.ts`): its
     * key computed by the caller, the flow found by row key (`num`), the id checked too.
     */
    recordByNum: new Ordered(
      db,
      {
        compile: () =>
          sql`insert or ignore into history (id, ${HISTORY_COLUMNS})
              select ${num('id')}, id, ${num('position')}, ${sql.join(RECORD_VALUES_AFTER_POSITION)}
              from flows
              where id = ${str('flowId')} and fencing_token = ${num('token')} and num = ${num('num')}
                and status = 'running' and cancel_requested = 0`.compile(k),
      },
      RECORD_BY_NUM_PARAMS,
    ),
    // The same write once the fencing check has passed, by key: packed, or spilled (a new negative key).
    record: p({
      compile: () =>
        sql`insert into history (id, ${HISTORY_COLUMNS})
            values (${num('id')}, ${RECORD_VALUES})
            on conflict (id) do update set ${KEEP_FINAL} where history.status = 'waiting'`.compile(k),
    }),
    recordSpilled: p({
      compile: () =>
        sql`insert into history (id, ${HISTORY_COLUMNS})
            values ((select min(coalesce(min(id), 0), 0) - 1 from history), ${RECORD_VALUES})
            on conflict (flow_id, position) where id < 0 do update set ${KEEP_FINAL}
            where history.status = 'waiting'`.compile(k),
    }),

    signals: p<SignalRow>(
      k.selectFrom('signals').selectAll().where('flow_id', '=', str('flowId')).orderBy('seq'),
    ),
    oldestSignal: p<SignalRow>(
      k
        .selectFrom('signals')
        .selectAll()
        .where('flow_id', '=', str('flowId'))
        .where('name', '=', str('name'))
        .orderBy('seq')
        .limit(sql.lit(1)),
    ),
    insertSignal: p(
      k.insertInto('signals').values({
        flow_id: str('flowId'),
        name: str('name'),
        payload: str('payload'),
        sent_at: num('now'),
      }),
    ),
    deleteSignal: p(k.deleteFrom('signals').where('seq', '=', num('seq'))),

    insertEvent: p(
      k.insertInto('events').values({
        origin: str('origin'),
        type: str('type'),
        queue: nullableStr('queue'),
        flow_id: nullableStr('flowId'),
        status: nullableStr('status'),
        at: nullableNum('at'),
      }),
    ),
    // The events of one commit in one row (`feed.ts`).
    insertBatch: p(
      k.insertInto('events').values({ origin: str('origin'), type: 'batch', batch: str('batch') }),
    ),
    pruneEvents: p(k.deleteFrom('events').where('seq', '<=', num('seq'))),
    lastEvent: p<{ seq: number | null }>(k.selectFrom('events').select((eb) => eb.fn.max('seq').as('seq'))),
    eventsAfter: p<EventRow>(
      k
        .selectFrom('events')
        .selectAll()
        .where('seq', '>', num('seq'))
        .orderBy('seq')
        .limit(limitParam('limit')),
    ),
  };
}
