/**
 * The store's fixed queries, built with Kysely once per connection and kept
 * as prepared statements (see `statements.ts`). Names in `param('…')` are the
 * keys of the values object each call passes.
 *
 * @module
 */
import type { StoreEvent } from '@ergon/core';
import type Database from 'better-sqlite3';
import { type Compilable, type Kysely, type Selectable, sql } from 'kysely';
import { CLAIMED_COLUMNS } from './claim-rows.js';
import { prepareFlowControlQueries } from './flow-control-queries.js';
import type { HeldFlows } from './held-flows.js';
import { prepareHistoryQueries } from './history-queries.js';
import type { QueueCache } from './queue-cache.js';
import { anyExpired, expired, READY } from './ready-indexes.js';
import type { FlowRow } from './rows.js';
import type { EventsTable, Schema } from './schema.js';
import { limitParam, Ordered, orFail, Prepared, param } from './statements.js';
import { prepareWorkerQueries } from './workers.js';

/** What the lease check of a history write reads. */
export interface HolderRow {
  id: string;
  num: number;
  status: string;
  fencing_token: number;
  cancel_requested: number;
}

/** What the fencing check of a state change reads. */
export interface FenceRow extends HolderRow {
  queue: string;
  parent_id: string | null;
  waits: string;
}

/** A claim candidate. */
export interface CandidateRow {
  num: number;
  id: string;
  priority: number;
  run_at: number;
}

/** A change-feed row. */
export type EventRow = Selectable<EventsTable>;

const TERMINAL = ['completed', 'failed', 'cancelled'];

/** The parameters of `finishByNum`, in order (`finishSet`'s, then the WHERE's). */
export const FINISH_BY_NUM_PARAMS = [
  'status',
  'result',
  'status',
  'error',
  'error',
  'now',
  'now',
  'num',
  'id',
  'token',
] as const;

/** Prepares every fixed query on `db`. */
export function prepareQueries(db: Database.Database, k: Kysely<Schema>) {
  const p = <Row = unknown>(query: Compilable) => new Prepared<Row>(db, query);
  const str = (name: string) => param<string>(name);
  const num = (name: string) => param<number>(name);
  const nullableStr = (name: string) => param<string | null>(name);
  const nullableNum = (name: string) => param<number | null>(name);

  return {
    flow: p<FlowRow>(k.selectFrom('flows').selectAll().where('id', '=', str('id'))),
    // The hot path's fencing check (record, consume): only what it needs, from the row's start.
    holder: p<HolderRow>(
      k
        .selectFrom('flows')
        .select(['id', 'num', 'status', 'fencing_token', 'cancel_requested'])
        .where('id', '=', str('id')),
    ),
    fence: p<FenceRow>(
      k
        .selectFrom('flows')
        .select(['id', 'num', 'queue', 'status', 'fencing_token', 'cancel_requested', 'parent_id', 'waits'])
        .where('id', '=', str('id')),
    ),
    insertFlow: p(
      k
        .insertInto('flows')
        .values({
          id: str('id'),
          type: str('type'),
          queue: str('queue'),
          status: 'pending',
          priority: num('priority'),
          input: str('input'),
          parent_id: nullableStr('parentId'),
          run_at: num('runAt'),
          trace_context: nullableStr('traceContext'),
          // 1 in a controlled queue (the fair index holds it), else NULL (`fair-index.ts`).
          controlled: nullableNum('controlled'),
          created_at: num('now'),
          updated_at: num('now'),
        })
        .onConflict((oc) => oc.column('id').doNothing()),
    ),
    // A new flow claimed as it is created (`NewFlow.claim`, no flow control): one insert instead
    // of an insert and an update of every index the claim touches.
    insertRunning: p<FlowRow>(
      k
        .insertInto('flows')
        .values({
          id: str('id'),
          type: str('type'),
          queue: str('queue'),
          status: 'running',
          priority: num('priority'),
          input: str('input'),
          parent_id: nullableStr('parentId'),
          run_at: num('runAt'),
          trace_context: nullableStr('traceContext'),
          fencing_token: 1,
          lease_owner: str('workerId'),
          lease_expires_at: num('expiresAt'),
          run_count: 1,
          created_at: num('now'),
          updated_at: num('now'),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returningAll(),
    ),
    // INDEXED BY: walk one (queue, type) in claim order and stop after `limit` ready flows,
    // instead of collecting every ready flow and sorting (what the planner picks unprompted).
    // Each row one JSON array (num, id, priority, run_at), as the claim's rows are: better-sqlite3
    // makes a row object property by property (~9k instructions for these four).
    claimCandidates: new Prepared<string>(
      db,
      {
        compile: () =>
          sql`select json_array(num, id, priority, run_at) from flows indexed by flows_ready
              where queue = ${str('queue')} and type = ${str('type')} and ${READY} and run_at <= ${num('now')}
              order by priority desc, run_at, id limit ${limitParam('limit')}`.compile(k),
      },
      { pluck: true },
    ),
    // Running flows whose lease expired (claimable again), best first; usually none. A running flow
    // without an expiry (imported so) counts as expired, as it always did.
    anyExpired: p<{ any: number }>({ compile: () => anyExpired(str('queue'), num('now')).compile(k) }),
    expiredCandidates: p<CandidateRow>({
      compile: () =>
        sql`${expired(str('queue'), num('now'), sql`type = ${str('type')}`, sql`num, id, priority, run_at`)}
            order by priority desc, run_at, id limit ${limitParam('limit')}`.compile(k),
    }),
    candidate: p<CandidateRow & { type: string; queue: string; wake_at: number | null }>(
      k
        .selectFrom('flows')
        .select(['num', 'id', 'type', 'queue', 'priority', 'run_at', 'wake_at'])
        .where('id', '=', str('id'))
        .where('wake_at', '<=', num('now')),
    ),
    claim: p<FlowRow>(claimSet(k).where('id', '=', str('id')).returningAll()),
    // The claim of many flows at once, by their keys (a JSON array): one statement, not one per
    // flow. Rows come back in key order, each as one JSON array of its values (CLAIMED_COLUMNS:
    // those the claim does not set itself): better-sqlite3 sets a row's values into a JS array one
    // by one, at ~1k instructions each, where JSON.parse builds the array in one call.
    claimMany: new Prepared<string>(
      db,
      orFail(
        claimSet(k)
          .where('num', 'in', sql<number>`(select value from json_each(${str('nums')}))`)
          .returning(sql<string>`json_array(${sql.join(CLAIMED_COLUMNS.map((c) => sql.ref(c)))})`.as('row')),
      ),
      { pluck: true },
    ),
    // A plain claim of one (queue, type) in one statement: the flows claimCandidates would choose,
    // leased as claimMany leases them, without handing the candidates to JS and back (a statement,
    // a JSON array per candidate and its parse, the key list and json_each).
    claimReady: new Prepared<string>(
      db,
      orFail(
        claimSet(k)
          .where(
            'num',
            'in',
            sql<number>`(select num from flows indexed by flows_ready
              where queue = ${str('queue')} and type = ${str('type')} and ${READY} and run_at <= ${num('now')}
              order by priority desc, run_at, id limit ${limitParam('limit')})`,
          )
          .returning(sql<string>`json_array(${sql.join(CLAIMED_COLUMNS.map((c) => sql.ref(c)))})`.as('row')),
      ),
      { pluck: true },
    ),
    renew: p(
      orFail(
        k
          .updateTable('flows')
          // Never shortened: a renewal that arrives after a later one leaves the later expiry.
          .set({ lease_expires_at: sql<number>`max(coalesce(lease_expires_at, 0), ${num('expiresAt')})` })
          .where('id', '=', str('id')),
      ),
    ),
    release: p<{ queue: string }>(
      orFail(
        k
          .updateTable('flows')
          .set({
            status: 'pending',
            run_at: num('runAt'),
            lease_owner: null,
            lease_expires_at: null,
            updated_at: num('now'),
            // A release with an error is an abandoned run, and says why; a plain one changes neither.
            last_error: sql<string | null>`coalesce(${nullableStr('error')}, last_error)`,
            abandoned_runs: sql<number>`abandoned_runs + (${nullableStr('error')} is not null)`,
          })
          .where('id', '=', str('id'))
          .where('fencing_token', '=', num('token'))
          .where('status', '=', 'running')
          .returning('queue'),
      ),
    ),
    suspend: p(
      orFail(
        k
          .updateTable('flows')
          .set({
            status: 'suspended',
            waits: str('waits'),
            run_at: nullableNum('runAt'),
            lease_owner: null,
            lease_expires_at: null,
            abandoned_runs: 0,
            last_error: null,
            updated_at: num('now'),
          })
          .where('id', '=', str('id')),
      ),
    ),
    finish: p(orFail(finishSet(k).where('id', '=', str('id')))),
    // The end of a flow claimed through this connection (`held-flows.ts`), by its row key; the
    // fencing check is its WHERE. Values passed in order (FINISH_BY_NUM_PARAMS): the end of every
    // flow, with no values object nor lookup by name.
    finishByNum: new Ordered(
      db,
      orFail(
        finishSet(k)
          .where('num', '=', num('num'))
          .where('id', '=', str('id'))
          .where('fencing_token', '=', num('token'))
          .where('status', '=', sql.lit('running')),
      ),
      FINISH_BY_NUM_PARAMS,
    ),
    // The end of a held flow in one statement: the fencing check is its WHERE. Values: queue, parent_id.
    finishHeld: new Prepared<[string, string | null]>(
      db,
      orFail(
        finishSet(k)
          .where('id', '=', str('id'))
          .where('fencing_token', '=', num('token'))
          .where('status', '=', 'running')
          .returning(['queue', 'parent_id']),
      ),
      { values: true },
    ),
    wake: p(
      orFail(
        k
          .updateTable('flows')
          .set({ run_at: num('now'), updated_at: num('now') })
          .where('id', '=', str('id')),
      ),
    ),
    setProgress: p(
      k
        .updateTable('flows')
        .set({ progress: str('progress'), progress_at: num('now'), updated_at: num('now') })
        .where('id', '=', str('id')),
    ),
    flagCancel: p(
      k
        .updateTable('flows')
        .set({ cancel_requested: 1, error: str('error'), updated_at: num('now') })
        .where('id', '=', str('id')),
    ),
    // The earliest ready flow: `flows_ready` orders by run_at within each priority, so one seek per
    // priority present (found one seek each, highest first) instead of an index of its own (`dueIndexDrop`).
    nextReady: p<{ at: number | null }>({
      compile: () => {
        const ready = sql`from flows indexed by flows_ready
                          where queue = ${str('queue')} and type = ${str('type')} and ${READY}`;
        return sql`with recursive levels(priority) as (
                     select max(priority) ${ready}
                     union all
                     select (select max(priority) ${ready} and priority < levels.priority)
                     from levels where levels.priority is not null)
                   select min((select min(run_at) ${ready} and priority = levels.priority)) as at
                   from levels where levels.priority is not null`.compile(k);
      },
    }),
    // The next lease to expire (none: 0, claimable now).
    nextExpiry: p<{ at: number }>({
      compile: () =>
        sql`select coalesce(lease_expires_at, 0) as at from flows indexed by flows_running
            where queue = ${str('queue')} and status = 'running' and type = ${str('type')}
            order by lease_expires_at limit 1`.compile(k),
    }),
    purgeable: p<{ id: string; num: number }>(
      k
        .selectFrom('flows')
        .select(['id', 'num'])
        .where('finished_at', '<', num('before'))
        .where('status', 'in', TERMINAL)
        .orderBy('finished_at')
        .limit(limitParam('limit')),
    ),
    deleteFlow: p(k.deleteFrom('flows').where('id', '=', str('id'))),
    deleteHistory: p(k.deleteFrom('history').where('id', '>=', num('first')).where('id', '<=', num('last'))),
    deleteSpilled: p({
      compile: () =>
        sql`delete from history indexed by history_spilled where flow_id = ${str('id')} and id < 0`.compile(
          k,
        ),
    }),
    deleteSignals: p(k.deleteFrom('signals').where('flow_id', '=', str('id'))),

    // A flow's packed records: one range of the rowid b-tree, found from the flow's `num`.
    ...prepareHistoryQueries(db, k),
    ...prepareWorkerQueries(db, k),
    ...prepareFlowControlQueries(db, k),
  };
}

/** What a claim sets: the flow runs under a new token and lease. */
function claimSet(k: Kysely<Schema>) {
  return k.updateTable('flows').set((eb) => ({
    status: 'running',
    fencing_token: eb('fencing_token', '+', 1),
    lease_owner: param<string>('workerId'),
    lease_expires_at: param<number>('expiresAt'),
    run_count: eb('run_count', '+', 1),
    // Taking over an expired lease: that run was abandoned.
    abandoned_runs: sql<number>`abandoned_runs + (status = 'running')`,
    waits: '[]',
    updated_at: param<number>('now'),
  }));
}

/** What the end of a flow sets. */
function finishSet(k: Kysely<Schema>) {
  return k.updateTable('flows').set({
    status: param<string>('status'),
    result: param<string | null>('result'),
    // A cancel keeps the reason its request recorded; other endings write their own.
    error: sql<
      string | null
    >`CASE WHEN ${param<string>('status')} = 'cancelled' THEN coalesce(error, ${param<string | null>('error')}) ELSE ${param<string | null>('error')} END`,
    // Constants as SQL literals: Kysely would make each a parameter, bound on every call.
    waits: sql.lit('[]'),
    run_at: sql.lit(null),
    lease_owner: sql.lit(null),
    lease_expires_at: sql.lit(null),
    abandoned_runs: sql.lit(0),
    last_error: sql.lit(null),
    finished_at: param<number>('now'),
    updated_at: param<number>('now'),
  });
}

/** The prepared queries of one connection. */
export type Queries = ReturnType<typeof prepareQueries>;

/** What code running in a transaction works with: the statements, and events to emit after commit. */
export interface TxContext {
  readonly q: Queries;
  /** Which queues are controlled, as read in the running write transaction (`queue-cache.ts`). */
  readonly queues: QueueCache;
  /** The flows claimed through this connection (`held-flows.ts`). */
  readonly held: HeldFlows;
  emit(event: StoreEvent): void;
}
