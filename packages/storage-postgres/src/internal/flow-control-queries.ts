/**
 * The prepared statements of flow control on PostgreSQL (`flow-control.ts`).
 *
 * @module
 */
import type { QueueLimits } from '@ergon/core';
import { sql } from 'kysely';
import { param } from './db.js';
import { CLAIM_PARAMS, claimSet } from './functions.js';
import type { Builder } from './queries.js';
import type { FlowRow } from './rows.js';
import type { Schema } from './schema.js';

/** A ready flow of a controlled queue, as a claim reads it. */
export interface FairCandidate {
  id: string;
  priority: number;
  fair_tag: number | null;
  run_at: number | null;
  concurrency_key: string | null;
  concurrency_limit: number | null;
}

/** A row of `queues`. */
export interface QueueRow {
  queue: string;
  limits: QueueLimits | null;
  keyed: boolean;
  virtual: number;
}

const str = (name: string) => param<string>(name);
const num = (name: string) => param<number>(name);

const CANDIDATE = sql`id, priority, fair_tag, run_at, concurrency_key, concurrency_limit`;
const FAIR_ORDER = sql`priority desc, fair_tag nulls first, run_at, id`;

/** The prepared statements of flow control. */
export function prepareFlowControlQueries(b: Builder) {
  const { t: table, raw } = b;
  const t = (name: string) => table(name as keyof Schema);
  return {
    fcQueues: raw<QueueRow>(
      'fc_queues',
      sql`select * from ${t('queues')} where queue = any(${param('queues')}::text[])
            and (limits is not null or keyed)`,
    ),
    fcLockQueue: raw<QueueRow>(
      'fc_lock_queue',
      sql`select * from ${t('queues')} where queue = ${str('queue')}::text for update`,
    ),
    fcSetLimits: raw(
      'fc_set_limits',
      sql`insert into ${t('queues')} (queue, limits) values (${str('queue')}::text, ${str('limits')}::jsonb)
          on conflict (queue) do update set limits = excluded.limits`,
    ),
    fcQueue: raw<QueueRow>('fc_queue', sql`select * from ${t('queues')} where queue = ${str('queue')}::text`),
    fcMarkKeyed: raw<QueueRow>(
      'fc_mark_keyed',
      sql`insert into ${t('queues')} as q (queue, keyed) values (${str('queue')}::text, true)
          on conflict (queue) do update set keyed = true
          returning q.*`,
    ),
    // The key's next tag in one statement: max(V, its last tag) + its step.
    fcNextTag: raw<{ last_tag: number }>(
      'fc_next_tag',
      sql`insert into ${t('queue_keys')} as k (queue, key, last_tag)
          values (${str('queue')}::text, ${str('key')}::text, ${num('virtual')}::bigint + ${num('step')}::bigint)
          on conflict (queue, key) do update
            set last_tag = greatest(k.last_tag, ${num('virtual')}::bigint) + ${num('step')}::bigint
          returning k.last_tag`,
    ),
    // A create whose only flow control is a concurrency key, in one statement: the key's next tag
    // (as fcNextTag) and the flow inserted with its key, limit and that tag. Committed at once, the
    // key's row is locked for the statement alone, not for the round trips of a transaction: keyed
    // creates of one key take turns on it.
    fcInsertKeyed: raw<FlowRow>(
      'fc_insert_keyed',
      sql`with tag as (
            insert into ${t('queue_keys')} as k (queue, key, last_tag)
            values (${str('queue')}::text, ${str('key')}::text, ${num('virtual')}::bigint + ${num('step')}::bigint)
            on conflict (queue, key) do update
              set last_tag = greatest(k.last_tag, ${num('virtual')}::bigint) + ${num('step')}::bigint
            returning k.last_tag)
          insert into ${t('flows')} (id, type, queue, status, priority, input, parent_id, run_at, trace_context,
            created_at, updated_at, concurrency_key, concurrency_limit, fair_tag)
          select ${str('id')}::text, ${str('type')}::text, ${str('queue')}::text, 'pending',
            ${num('priority')}::bigint, ${str('input')}::text, ${str('parentId')}::text, ${num('runAt')}::bigint,
            ${str('traceContext')}::text, ${num('now')}::bigint, ${num('now')}::bigint, ${str('key')}::text,
            ${num('limit')}::int, tag.last_tag
          from tag
          on conflict (id) do nothing
          returning *`,
    ),
    // A synchronous commit after a create's asynchronous one: a row lock writes WAL, so its commit
    // waits for the flush, which takes every commit before it (as migration 0009's procedure does).
    fcFlushed: raw<{ one: number }>(
      'fc_flushed',
      sql`select 1 as one from ${t('flows')} where id = ${str('id')}::text for key share`,
    ),
    fcSetFlowFields: raw<FlowRow>(
      'fc_set_flow_fields',
      sql`update ${t('flows')} set concurrency_key = ${str('key')}::text,
            concurrency_limit = ${num('limit')}::int, debounce_key = ${str('debounce')}::text,
            fair_tag = ${num('tag')}::bigint, run_at = ${num('runAt')}::bigint
          where id = ${str('id')}::text returning *`,
    ),
    // Running flows whose lease has not ended (a running flow's `wake_at` is its lease's end), on `flows_lease`.
    fcRunning: raw<{ n: number }>(
      'fc_running',
      sql`select count(*)::int as n from ${t('flows')}
          where queue = ${str('queue')}::text and status = 'running' and wake_at > ${num('now')}::bigint`,
    ),
    fcKeyRunning: raw<{ key: string; n: number }>(
      'fc_key_running',
      sql`select concurrency_key as key, count(*)::int as n from ${t('flows')}
          where queue = ${str('queue')}::text and status = 'running' and concurrency_key is not null
            and wake_at > ${num('now')}::bigint
          group by concurrency_key`,
    ),
    fcOneKeyRunning: raw<{ n: number }>(
      'fc_one_key_running',
      sql`select count(*)::int as n from ${t('flows')}
          where queue = ${str('queue')}::text and status = 'running' and concurrency_key = ${str('key')}::text
            and wake_at > ${num('now')}::bigint`,
    ),
    // Ready flows in fair order, from `flows_fair_ready`, and running ones whose lease ended, from
    // `flows_lease` (`ready-index.ts`); a page of both, each locked as read.
    fcCandidates: raw<FairCandidate>(
      'fc_candidates',
      sql`with ready as (
            select ${CANDIDATE} from ${t('flows')}
            where queue = ${str('queue')}::text and type = any(${param('types')}::text[])
              and wake_at <= ${num('now')}::bigint and status <> 'running'
              and (${str('id')}::text is null or id = ${str('id')}::text)
            order by ${FAIR_ORDER}
            limit ${num('limit')}::int + ${num('offset')}::int
            for update skip locked),
          lapsed as (
            select ${CANDIDATE} from ${t('flows')}
            where queue = ${str('queue')}::text and status = 'running' and wake_at <= ${num('now')}::bigint
              and type = any(${param('types')}::text[])
              and (${str('id')}::text is null or id = ${str('id')}::text)
            order by ${FAIR_ORDER}
            limit ${num('limit')}::int + ${num('offset')}::int
            for update skip locked)
          select * from (select * from ready union all select * from lapsed) c
          order by ${FAIR_ORDER}
          limit ${num('limit')}::int offset ${num('offset')}::int`,
    ),
    fcClaim: raw<FlowRow>(
      'fc_claim',
      sql`update ${t('flows')} f set ${claimSet(CLAIM_PARAMS)}
          where f.id = any(${param('ids')}::text[])
          returning f.*`,
    ),
    // A start's effective time: its own, or the newest logged if that is later (logged times never go back).
    fcEffective: raw<{ at: number }>(
      'fc_effective',
      sql`select greatest(${num('now')}::bigint, max(at)) as at from ${t('queue_starts')}
          where queue = ${str('queue')}::text`,
    ),
    fcStarts: raw<{ n: number }>(
      'fc_starts',
      sql`select count(*)::int as n from ${t('queue_starts')}
          where queue = ${str('queue')}::text and at > ${num('from')}::bigint`,
    ),
    fcPruneStarts: raw(
      'fc_prune_starts',
      sql`delete from ${t('queue_starts')} where queue = ${str('queue')}::text and at <= ${num('from')}::bigint`,
    ),
    fcAddStarts: raw(
      'fc_add_starts',
      sql`insert into ${t('queue_starts')} (queue, at)
          select ${str('queue')}::text, ${num('now')}::bigint from generate_series(1, ${num('count')}::int)`,
    ),
    fcAdvance: raw(
      'fc_advance',
      sql`update ${t('queues')} set virtual = greatest(virtual, ${num('tag')}::bigint)
          where queue = ${str('queue')}::text`,
    ),
    fcClaimKey: raw<{ flow_id: string; until: number | null; mine: boolean }>(
      'fc_claim_key',
      sql`insert into ${t('flow_keys')} as k (kind, key, flow_id, until)
          values (${str('kind')}::text, ${str('key')}::text, ${str('id')}::text, ${num('until')}::bigint)
          on conflict (kind, key) do update set kind = k.kind
          returning k.flow_id, k.until, (k.flow_id = ${str('id')}::text) as mine`,
    ),
    fcSetKey: raw(
      'fc_set_key',
      sql`update ${t('flow_keys')} set flow_id = ${str('id')}::text, until = ${num('until')}::bigint
          where kind = ${str('kind')}::text and key = ${str('key')}::text`,
    ),
    fcFlow: raw<FlowRow>('fc_flow', sql`select * from ${t('flows')} where id = ${str('id')}::text`),
    fcDebounce: raw<FlowRow>(
      'fc_debounce',
      sql`update ${t('flows')} set input = ${str('input')}::text, run_at = ${num('runAt')}::bigint,
            updated_at = ${num('now')}::bigint
          where id = ${str('id')}::text returning *`,
    ),
  };
}
