/**
 * The store's fixed statements, built with Kysely once per store and run as
 * named prepared statements. Names in `param('…')` are the keys of the values
 * object each call passes. The statements of one concept stay together:
 * flows and claims here, history in `history-queries.ts`, the worker registry
 * in `worker-queries.ts`.
 *
 * Statements that make events return what the events need; the events go
 * out after the commit, through `notifier.ts`.
 *
 * @module
 */

import { createHash } from 'node:crypto';
import { type Compilable, type Kysely, type RawBuilder, sql } from 'kysely';
import { batchClaimQueries } from './batch-claim.js';
import { batchQueries, createQueries } from './batch-queries.js';
import { claimParkQueries } from './claim-park.js';
import { procedureQueries } from './create-procedure.js';
import { param, Statement } from './db.js';
import { prepareFlowControlQueries } from './flow-control-queries.js';
import { CLAIM_PARAMS, claimSet, NEXT_WAKE_FUNCTION } from './functions.js';
import { handOffQueries } from './hand-off.js';
import { historyQueries } from './history-queries.js';
import type { FlowRow, SignalRow } from './rows.js';
import type { Schema } from './schema.js';
import { workerQueries } from './worker-queries.js';

/** What the fencing check of a state change reads. */
export interface FenceRow {
  id: string;
  queue: string;
  status: string;
  fencing_token: number;
  cancel_requested: boolean;
  parent_id: string | null;
  waits: unknown;
}

/** A claim's row: a claimed flow (`id` null in the one row of a claim that took none), and the requested queues under flow control. */
export type ClaimRow = { [K in keyof FlowRow]: FlowRow[K] | null } & {
  /** A JSON array of queue names (text: pg would parse an array column on every row). */
  controlled: string;
};

/** The terminal statuses, as SQL. */
export const TERMINAL = sql`('completed','failed','cancelled')`;

/** Builds statements of one store: its Kysely, its schema, and a name prefix unique to the schema. */
export interface Builder {
  readonly k: Kysely<Schema>;
  /** `"schema"."table"`. */
  readonly t: (table: keyof Schema) => RawBuilder<unknown>;
  /** A statement named `<prefix>_<name>`. */
  readonly statement: <Row = unknown>(name: string, query: Compilable) => Statement<Row>;
  /** A raw statement, compiled on this store's Kysely. */
  readonly raw: <Row = unknown>(name: string, query: RawBuilder<unknown>) => Statement<Row>;
}

/** A builder for the statements of the store in `schema`. */
export function builder(k: Kysely<Schema>, schema: string): Builder {
  const prefix = `ergon_${createHash('sha1').update(schema).digest('hex').slice(0, 8)}`;
  return {
    k,
    t: (table) => sql.id(schema, table),
    statement: (name, query) => new Statement(`${prefix}_${name}`, query),
    raw: (name, query) => new Statement(`${prefix}_${name}`, { compile: () => query.compile(k) }),
  };
}

const str = (name: string) => param<string>(name);
const num = (name: string) => param<number>(name);

/** The columns a finish writes: terminal status, result, error (a cancel keeps its recorded reason). */
function finishSet() {
  return sql`status = ${str('status')}::text, result = ${str('result')}::text,
    error = case when ${str('status')}::text = 'cancelled' then coalesce(error, ${str('error')}::text) else ${str('error')}::text end,
    waits = '[]'::jsonb, run_at = null, lease_owner = null, lease_expires_at = null,
    abandoned_runs = 0, last_error = null, finished_at = ${num('now')}::bigint, updated_at = ${num('now')}::bigint`;
}

/**
 * A flow inserted pending unless one with its id exists; its id when inserted. The row is what
 * the input says and the columns' defaults (`rows.ts`, `newFlowRow`): not read back. (A create
 * without flow control inserts with `insertFlowHand`, `hand-off.ts`.)
 */
function insertFlow(t: Builder['t']) {
  return sql`insert into ${t('flows')} (id, type, queue, status, priority, input, parent_id, run_at,
      trace_context, created_at, updated_at)
    values (${str('id')}::text, ${str('type')}::text, ${str('queue')}::text, 'pending',
      ${num('priority')}::bigint, ${str('input')}::text, ${str('parentId')}::text, ${num('runAt')}::bigint,
      ${str('traceContext')}::text, ${num('now')}::bigint, ${num('now')}::bigint)
    on conflict (id) do nothing
    returning id`;
}

/** `cq` (a `queues` row) is the row of `q.queue` and puts it under flow control. */
const CONTROLLED_QUEUE = sql`cq.queue = q.queue and (cq.limits is not null or cq.keyed)`;

/**
 * The end of a claim statement: each claimed flow with the requested queues under flow control,
 * or one row of those queues alone (its flow columns null) when it claimed none.
 */
function withControlled(t: Builder['t']) {
  return sql`select claimed.*, x.controlled
          from (select coalesce(json_agg(cq.queue)::text, '[]') as controlled from ${t('queues' as never)} cq
                where cq.queue = any(${param('queues')}::text[]) and (cq.limits is not null or cq.keyed)) x
          left join claimed on true`;
}

/** Prepares every fixed statement of the store. */
export function prepareQueries(b: Builder) {
  const { t, raw } = b;
  const WITH_CONTROLLED = withControlled(t);
  return {
    ...prepareFlowControlQueries(b),
    flow: b.statement<FlowRow>('flow', b.k.selectFrom('flows').selectAll().where('id', '=', str('id'))),
    /** Several flows by id (coalesced reads). */
    flows: raw<FlowRow>('flows', sql`select * from ${t('flows')} where id = any(${param('ids')}::text[])`),
    /** The flow, locked against concurrent writers until the transaction ends. */
    fence: raw<FenceRow>(
      'fence',
      sql`select id, queue, status, fencing_token, cancel_requested, parent_id, waits
          from ${t('flows')} where id = ${str('id')}::text for update`,
    ),
    insertFlow: raw<{ id: string }>('insert_flow', insertFlow(t)),
    claimOne: raw<ClaimRow>(
      'claim_one',
      sql`with claimed as (
            update ${t('flows')} f set ${claimSet(CLAIM_PARAMS)}
            from (select id from ${t('flows')} q
                  where id = ${str('id')}::text and queue = any(${param('queues')}::text[])
                    and type = any(${param('types')}::text[]) and wake_at <= ${num('now')}::bigint
                    and not exists (select 1 from ${t('queues' as never)} cq where ${CONTROLLED_QUEUE})
                  for update skip locked) c
            where f.id = c.id
            returning f.*)
          ${WITH_CONTROLLED}`,
    ),
    renew: raw<{ cancel_requested: boolean }>(
      'renew',
      sql`update ${t('flows')} set lease_expires_at = greatest(lease_expires_at, ${num('expiresAt')}::bigint)
          where id = ${str('id')}::text and fencing_token = ${num('token')}::bigint and status = 'running'
          returning cancel_requested`,
    ),
    // A release with an error is an abandoned run, and says why; a plain one changes neither.
    release: raw<{ queue: string }>(
      'release',
      sql`update ${t('flows')} set status = 'pending', run_at = ${num('runAt')}::bigint, lease_owner = null,
            lease_expires_at = null, updated_at = ${num('now')}::bigint,
            last_error = coalesce(${str('error')}::text, last_error),
            abandoned_runs = abandoned_runs + (${str('error')}::text is not null)::int
          where id = ${str('id')}::text and fencing_token = ${num('token')}::bigint and status = 'running'
          returning queue`,
    ),
    // The common end of a flow without a parent, fenced, in one statement.
    finishFast: raw<{ id: string }>(
      'finish_fast',
      sql`update ${t('flows')} set ${finishSet()}
          where id = ${str('id')}::text and fencing_token = ${num('token')}::bigint and status = 'running'
            and parent_id is null
          returning id`,
    ),
    finish: raw('finish', sql`update ${t('flows')} set ${finishSet()} where id = ${str('id')}::text`),
    wake: raw(
      'wake',
      sql`update ${t('flows')} set run_at = ${num('now')}::bigint, updated_at = ${num('now')}::bigint
          where id = ${str('id')}::text`,
    ),
    suspend: raw(
      'suspend',
      sql`update ${t('flows')} set status = 'suspended', waits = ${str('waits')}::jsonb,
            run_at = ${num('runAt')}::bigint, lease_owner = null, lease_expires_at = null,
            abandoned_runs = 0, last_error = null, updated_at = ${num('now')}::bigint
          where id = ${str('id')}::text`,
    ),
    // Read after the flow is locked: a signal or a child's end committed before the lock is seen.
    resolved: raw<{ resolved: boolean }>(
      'resolved',
      sql`select exists (select 1 from ${t('signals')}
                          where flow_id = ${str('id')}::text and name = any(${param('names')}::text[]))
              or exists (select 1 from ${t('flows')}
                          where id = any(${param('children')}::text[]) and status in ${TERMINAL}) as resolved`,
    ),
    // Fenced in the statement: no row back means the lease is someone else's (or the flow is gone).
    setProgress: raw<{ cancel_requested: boolean }>(
      'set_progress',
      sql`update ${t('flows')} set progress = ${str('progress')}::text, progress_at = ${num('now')}::bigint,
            updated_at = ${num('now')}::bigint
          where id = ${str('id')}::text and fencing_token = ${num('token')}::bigint and status = 'running'
          returning cancel_requested`,
    ),
    flagCancel: raw(
      'flag_cancel',
      sql`update ${t('flows')} set cancel_requested = true, error = ${str('error')}::text,
            updated_at = ${num('now')}::bigint
          where id = ${str('id')}::text`,
    ),
    nextWake: raw<{ at: number | null }>(
      'next_wake',
      sql`select ${t(NEXT_WAKE_FUNCTION as never)}(${param('queues')}::text[], ${param('types')}::text[]) as at`,
    ),
    purge: raw<{ id: string }>(
      'purge',
      sql`with p as (
            select id from ${t('flows')}
            where finished_at < ${num('before')}::bigint and status in ${TERMINAL}
            order by finished_at limit ${num('limit')}::int
            for update skip locked),
          h as (delete from ${t('history')} where flow_id in (select id from p)),
          s as (delete from ${t('signals')} where flow_id in (select id from p))
          delete from ${t('flows')} where id in (select id from p) returning id`,
    ),
    signals: raw<SignalRow>(
      'signals',
      sql`select * from ${t('signals')} where flow_id = ${str('id')}::text order by seq`,
    ),
    insertSignal: raw(
      'insert_signal',
      sql`insert into ${t('signals')} (flow_id, name, payload, sent_at)
          values (${str('id')}::text, ${str('name')}::text, ${str('payload')}::text, ${num('now')}::bigint)`,
    ),
    popSignal: raw<{ payload: string }>(
      'pop_signal',
      sql`delete from ${t('signals')} where seq = (
            select seq from ${t('signals')} where flow_id = ${str('id')}::text and name = ${str('name')}::text
            order by seq limit 1)
          returning payload`,
    ),
    // A transaction that only notifies need not wait for the WAL flush (see notifier.ts).
    notify: raw(
      'notify',
      sql`select set_config('synchronous_commit', 'off', true),
            count(pg_notify(${str('channel')}::text, p)::text)
          from unnest(${param('payloads')}::text[]) p`,
    ),
    ...historyQueries(b),
    ...handOffQueries(b),
    ...claimParkQueries(b),
    ...procedureQueries(b),
    ...batchQueries(b),
    ...batchClaimQueries(b),
    ...createQueries(b),
    ...workerQueries(b),
  };
}

/** The prepared statements of one store. */
export type Queries = ReturnType<typeof prepareQueries>;
