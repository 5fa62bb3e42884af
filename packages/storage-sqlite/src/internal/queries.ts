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
import type { FlowRow, HistoryRow, SignalRow } from './rows.js';
import type { EventsTable, Schema } from './schema.js';
import { Prepared, param } from './statements.js';

/** What the lease check of a history write reads. */
export interface HolderRow {
  id: string;
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
  id: string;
  priority: number;
  run_at: number;
}

/** A change-feed row. */
export type EventRow = Selectable<EventsTable>;

const TERMINAL = ['completed', 'failed', 'cancelled'];

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
        .select(['id', 'status', 'fencing_token', 'cancel_requested'])
        .where('id', '=', str('id')),
    ),
    fence: p<FenceRow>(
      k
        .selectFrom('flows')
        .select(['id', 'queue', 'status', 'fencing_token', 'cancel_requested', 'parent_id', 'waits'])
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
          created_at: num('now'),
          updated_at: num('now'),
        })
        .onConflict((oc) => oc.column('id').doNothing()),
    ),
    // INDEXED BY: walk one (queue, type) in claim order and stop after `limit` ready flows,
    // instead of collecting every ready flow and sorting (what the planner picks unprompted).
    claimCandidates: p<CandidateRow>({
      compile: () =>
        sql`select id, priority, run_at from flows indexed by flows_claim
            where queue = ${str('queue')} and type = ${str('type')} and wake_at <= ${num('now')}
            order by priority desc, run_at, id limit ${num('limit')}`.compile(k),
    }),
    candidate: p<CandidateRow & { type: string; queue: string; wake_at: number | null }>(
      k
        .selectFrom('flows')
        .select(['id', 'type', 'queue', 'priority', 'run_at', 'wake_at'])
        .where('id', '=', str('id'))
        .where('wake_at', '<=', num('now')),
    ),
    claim: p<FlowRow>(
      k
        .updateTable('flows')
        .set((eb) => ({
          status: 'running',
          fencing_token: eb('fencing_token', '+', 1),
          lease_owner: str('workerId'),
          lease_expires_at: num('expiresAt'),
          run_count: eb('run_count', '+', 1),
          waits: '[]',
          updated_at: num('now'),
        }))
        .where('id', '=', str('id'))
        .returningAll(),
    ),
    renew: p(
      k
        .updateTable('flows')
        .set({ lease_expires_at: num('expiresAt') })
        .where('id', '=', str('id')),
    ),
    release: p<{ queue: string }>(
      k
        .updateTable('flows')
        .set({
          status: 'pending',
          run_at: num('now'),
          lease_owner: null,
          lease_expires_at: null,
          updated_at: num('now'),
        })
        .where('id', '=', str('id'))
        .where('fencing_token', '=', num('token'))
        .where('status', '=', 'running')
        .returning('queue'),
    ),
    suspend: p(
      k
        .updateTable('flows')
        .set({
          status: 'suspended',
          waits: str('waits'),
          run_at: nullableNum('runAt'),
          lease_owner: null,
          lease_expires_at: null,
          updated_at: num('now'),
        })
        .where('id', '=', str('id')),
    ),
    finish: p(
      k
        .updateTable('flows')
        .set((eb) => ({
          status: str('status'),
          result: nullableStr('result'),
          error: eb.fn.coalesce(eb.val(nullableStr('error')), 'error'),
          waits: '[]',
          run_at: null,
          lease_owner: null,
          lease_expires_at: null,
          finished_at: num('now'),
          updated_at: num('now'),
        }))
        .where('id', '=', str('id')),
    ),
    wake: p(
      k
        .updateTable('flows')
        .set({ run_at: num('now'), updated_at: num('now') })
        .where('id', '=', str('id')),
    ),
    flagCancel: p(
      k
        .updateTable('flows')
        .set({ cancel_requested: 1, error: str('error'), updated_at: num('now') })
        .where('id', '=', str('id')),
    ),
    nextWake: p<{ at: number | null }>(
      k
        .selectFrom('flows')
        .select((eb) => eb.fn.min('wake_at').as('at'))
        .where('queue', '=', str('queue'))
        .where('type', '=', str('type'))
        .where('wake_at', 'is not', null),
    ),
    purgeable: p<{ id: string }>(
      k
        .selectFrom('flows')
        .select('id')
        .where('finished_at', '<', num('before'))
        .where('status', 'in', TERMINAL)
        .orderBy('finished_at')
        .limit(num('limit')),
    ),
    deleteFlow: p(k.deleteFrom('flows').where('id', '=', str('id'))),
    deleteHistory: p(k.deleteFrom('history').where('flow_id', '=', str('id'))),
    deleteSignals: p(k.deleteFrom('signals').where('flow_id', '=', str('id'))),

    history: p<HistoryRow>(
      k.selectFrom('history').selectAll().where('flow_id', '=', str('flowId')).orderBy('position'),
    ),
    historyAt: p<HistoryRow>(
      k
        .selectFrom('history')
        .selectAll()
        .where('flow_id', '=', str('flowId'))
        .where('position', '=', num('position')),
    ),
    // First write wins: a final record is never replaced; a `waiting` one is.
    record: p(
      k
        .insertInto('history')
        .values({
          flow_id: str('flowId'),
          position: num('position'),
          key: str('key'),
          kind: str('kind'),
          status: str('status'),
          attempts: num('attempts'),
          seq: nullableNum('seq'),
          result: nullableStr('result'),
          error: nullableStr('error'),
          wake_at: nullableNum('wakeAt'),
          started_at: num('startedAt'),
          finished_at: nullableNum('finishedAt'),
        })
        .onConflict((oc) =>
          oc
            .columns(['flow_id', 'position'])
            .doUpdateSet((eb) => ({
              key: eb.ref('excluded.key'),
              kind: eb.ref('excluded.kind'),
              status: eb.ref('excluded.status'),
              attempts: eb.ref('excluded.attempts'),
              seq: eb.ref('excluded.seq'),
              result: eb.ref('excluded.result'),
              error: eb.ref('excluded.error'),
              wake_at: eb.ref('excluded.wake_at'),
              started_at: eb.ref('excluded.started_at'),
              finished_at: eb.ref('excluded.finished_at'),
            }))
            .where('history.status', '=', 'waiting'),
        ),
    ),

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
        .limit(1),
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

    insertEvent: p<{ seq: number }>(
      k
        .insertInto('events')
        .values({
          origin: str('origin'),
          type: str('type'),
          queue: nullableStr('queue'),
          flow_id: nullableStr('flowId'),
          status: nullableStr('status'),
          at: nullableNum('at'),
        })
        .returning('seq'),
    ),
    pruneEvents: p(k.deleteFrom('events').where('seq', '<=', num('seq'))),
    lastEvent: p<{ seq: number | null }>(k.selectFrom('events').select((eb) => eb.fn.max('seq').as('seq'))),
    eventsAfter: p<EventRow>(
      k.selectFrom('events').selectAll().where('seq', '>', num('seq')).orderBy('seq').limit(num('limit')),
    ),
  };
}

/** The prepared queries of one connection. */
export type Queries = ReturnType<typeof prepareQueries>;

/** What code running in a transaction works with: the statements, and events to emit after commit. */
export interface TxContext {
  readonly q: Queries;
  emit(event: StoreEvent): void;
}
