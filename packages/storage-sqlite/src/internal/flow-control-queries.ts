/**
 * The prepared statements of flow control on SQLite (`flow-control.ts`,
 * `flow-control-claim.ts`), and the rows they read.
 *
 * @module
 */
import type Database from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { CONTROLLED_READY, UNFINISHED } from './fair-index.js';
import { expired } from './ready-indexes.js';
import type { FlowRow } from './rows.js';
import type { Schema } from './schema.js';
import { limitParam, Prepared, param } from './statements.js';

/** A row of the `queues` table. */
export interface QueueRow {
  queue: string;
  limits: string | null;
  keyed: number;
  virtual: number;
}

/** A ready flow of a controlled queue, as a claim reads it. */
export interface FairCandidate {
  num: number;
  id: string;
  priority: number;
  fair_tag: number | null;
  run_at: number;
  concurrency_key: string | null;
  concurrency_limit: number | null;
}

/** A candidate's columns as one JSON array, in `FairCandidate`'s order. */
const CANDIDATE = sql.raw(
  'json_array(num, id, priority, fair_tag, run_at, concurrency_key, concurrency_limit)',
);

/** The prepared statements of flow control. */
export function prepareFlowControlQueries(db: Database.Database, k: Kysely<Schema>) {
  const p = <Row = unknown>(text: () => ReturnType<typeof sql>) =>
    new Prepared<Row>(db, { compile: () => text().compile(k) });
  const json = (text: () => ReturnType<typeof sql>) =>
    new Prepared<string>(db, { compile: () => text().compile(k) }, { pluck: true });
  const str = (name: string) => param<string>(name);
  const num = (name: string) => param<number>(name);
  const nullable = (name: string) => param<string | number | null>(name);
  return {
    fcQueue: p<QueueRow>(() => sql`select * from queues where queue = ${str('queue')}`),
    fcSetLimits: p(
      () => sql`insert into queues (queue, limits) values (${str('queue')}, ${nullable('limits')})
                on conflict (queue) do update set limits = excluded.limits`,
    ),
    fcMarkKeyed: p(
      () => sql`insert into queues (queue, keyed) values (${str('queue')}, 1)
                on conflict (queue) do update set keyed = 1 where keyed = 0`,
    ),
    // The queue became controlled: its unfinished flows join the fair index (one scan of the table).
    fcMarkFlows: p(
      () => sql`update flows set controlled = 1
                where queue = ${str('queue')} and controlled is null and ${UNFINISHED}`,
    ),
    fcAdvance: p(
      () => sql`update queues set virtual = max(virtual, ${num('tag')}) where queue = ${str('queue')}`,
    ),
    fcLastTag: p<{ last_tag: number }>(
      () => sql`select last_tag from queue_keys where queue = ${str('queue')} and key = ${str('key')}`,
    ),
    fcSetLastTag: p(
      () => sql`insert into queue_keys (queue, key, last_tag) values (${str('queue')}, ${str('key')}, ${num('tag')})
                on conflict (queue, key) do update set last_tag = excluded.last_tag`,
    ),
    fcSetFlowFields: p(
      () => sql`update flows set concurrency_key = ${nullable('key')}, concurrency_limit = ${nullable('limit')},
                debounce_key = ${nullable('debounce')}, fair_tag = ${nullable('tag')}, run_at = ${num('runAt')}
                where id = ${str('id')}`,
    ),
    fcRunning: p<{ n: number }>(
      () => sql`select count(*) as n from flows indexed by flows_running
                where queue = ${str('queue')} and status = 'running' and lease_expires_at > ${num('now')}`,
    ),
    fcKeyRunning: p<{ key: string; n: number }>(
      () => sql`select concurrency_key as key, count(*) as n from flows indexed by flows_running
                where queue = ${str('queue')} and status = 'running' and concurrency_key is not null
                  and lease_expires_at > ${num('now')}
                group by concurrency_key`,
    ),
    fcOneKeyRunning: p<{ n: number }>(
      () => sql`select count(*) as n from flows indexed by flows_running
                where queue = ${str('queue')} and status = 'running' and concurrency_key = ${str('key')}
                  and lease_expires_at > ${num('now')}`,
    ),
    // Each row one JSON array of CANDIDATE's columns (`flow-control-candidates.ts` parses it).
    fcCandidates: json(
      () => sql`select ${CANDIDATE} from flows indexed by flows_controlled
                where queue = ${str('queue')} and type = ${str('type')} and ${CONTROLLED_READY} and run_at <= ${num('now')}
                order by priority desc, fair_tag, run_at, id limit ${limitParam('limit')} offset ${limitParam('offset')}`,
    ),
    // Running flows of the queue whose lease expired (claimable again), in fair order; usually none.
    // The order's columns follow the JSON one (a compound select orders by its own columns).
    fcExpired: json(
      () => sql`${expired(str('queue'), num('now'), sql`type = ${str('type')}`, sql`${CANDIDATE} as row, priority, fair_tag, run_at, id`)}
                order by priority desc, fair_tag, run_at, id limit ${limitParam('limit')}`,
    ),
    fcCandidate: p<FairCandidate & { queue: string; type: string }>(
      () => sql`select num, id, queue, type, priority, fair_tag, run_at, concurrency_key, concurrency_limit from flows
                where id = ${str('id')} and wake_at <= ${num('now')}`,
    ),
    // A start's effective time: its own, or the newest logged if that is later (logged times never go back).
    fcEffective: p<{ at: number }>(
      () => sql`select max(${num('now')}, coalesce(max(at), ${num('now')})) as at from queue_starts
                where queue = ${str('queue')}`,
    ),
    fcStarts: p<{ n: number }>(
      () => sql`select count(*) as n from queue_starts where queue = ${str('queue')} and at > ${num('from')}`,
    ),
    fcPruneStarts: p(
      () => sql`delete from queue_starts where queue = ${str('queue')} and at <= ${num('from')}`,
    ),
    fcAddStart: p(() => sql`insert into queue_starts (queue, at) values (${str('queue')}, ${num('now')})`),
    fcKey: p<{ flow_id: string; until: number | null }>(
      () => sql`select flow_id, until from flow_keys where kind = ${str('kind')} and key = ${str('key')}`,
    ),
    fcSetKey: p(
      () => sql`insert into flow_keys (kind, key, flow_id, until)
                values (${str('kind')}, ${str('key')}, ${str('id')}, ${nullable('until')})
                on conflict (kind, key) do update set flow_id = excluded.flow_id, until = excluded.until`,
    ),
    fcDebounce: p<FlowRow>(
      () => sql`update flows set input = ${str('input')}, run_at = ${num('runAt')}, updated_at = ${num('now')}
                where id = ${str('id')} returning *`,
    ),
  };
}
