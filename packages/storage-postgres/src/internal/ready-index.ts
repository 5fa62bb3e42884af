/**
 * Migration 0008: running flows leave the indexes of ready flows, and one
 * index holds them instead.
 *
 * A claim's UPDATE is never HOT (it changes indexed columns), so the new row
 * version goes into every index whose predicate it matches. A running flow
 * matched seven of the nine: the primary key, `flows_created`, both claim
 * indexes and the wake index (its `wake_at` is its lease's end), and the two
 * indexes of running flows (`flows_held` by lease owner, `flows_running` for
 * flow control). Most of a claim's time went into those index insertions
 * (EXPLAIN on 10,000 ready flows: 2.3 ms of 3.3 ms for 50 flows).
 *
 * Now the claim indexes (`flows_ready`, `flows_fair_ready`) and the wake index
 * (`flows_wake_ready`) hold the flows that wait to run (`READY`: pending or
 * suspended with a due time), and `flows_lease` (queue, concurrency key, lease
 * end) the running ones (`LEASED`): a claimed row goes into three indexes. A
 * claim, the hand-off check and `nextWakeAt` read a running flow whose lease
 * ended from `flows_lease`, beside the ready ones (it is as claimable as
 * before, in the same order); flow control counts running flows on it, and
 * reaping finds a dead worker's flows among the running ones, which are
 * few.
 *
 * The predicate of `flows_lease` names `wake_at`, not only the status: a
 * fenced write (`id = … and status = 'running'`) cannot be answered from it,
 * and its plan reads the flow by primary key, whatever the statistics say
 * about running flows. (With `flows_running (… ) where status = 'running'` the
 * batch statement's plan read every running flow through it, testing each
 * against the batch's ids: most of its time.)
 *
 * @module
 */
import { type Kysely, type Migration, type RawBuilder, sql } from 'kysely';
import { CLAIM_FUNCTION, claimedRows, claimSet, NEXT_WAKE_FUNCTION } from './functions.js';
import { ensureIndex, type IndexBuild } from './index-builds.js';
import { WAKE_KEY } from './wake-index.js';

/** The rows of the ready indexes: flows that wait to run, with a due time (`wake_at` is `run_at`). */
export const READY = sql`wake_at is not null and status <> 'running'`;
/** The rows of `flows_lease`: running flows (`wake_at` is the lease's end). */
export const LEASED = sql`status = 'running' and wake_at is not null`;

/** Settings the functions plan their statements under (`functions.ts`); plain index scans mark dead entries. */
export const PLANNING = sql.raw(
  `set plan_cache_mode = force_generic_plan set enable_seqscan = off set enable_bitmapscan = off`,
);

/**
 * `ergon_claim`, as in `functions.ts` (same arguments and rows), reading ready flows from
 * `flows_ready` and running flows whose lease ended from `flows_lease`: per requested queue without
 * flow control, up to `limit` of each, locked unless another claimer holds them (SKIP LOCKED); the
 * best `limit` of all of them claimed, found again by primary key.
 */
function claimFunction(schema: string): RawBuilder<unknown> {
  const t = (table: string) => sql.id(schema, table);
  const set = claimSet({
    workerId: sql.raw('p_worker'),
    expiresAt: sql.raw('p_expires'),
    now: sql.raw('p_now'),
  });
  const free = sql`not exists (select 1 from ${t('queues')} cq
                               where cq.queue = q.queue and (cq.limits is not null or cq.keyed))`;
  return sql`create or replace function ${t(CLAIM_FUNCTION)}(p_worker text, p_queues text[], p_types text[],
      p_now bigint, p_limit int, p_expires bigint)
    returns table (controlled text, flow ${t('flows')})
    language plpgsql volatile ${PLANNING}
    as $fn$
    begin
      return query
      with claimed as (
        update ${t('flows')} f set ${set}
        where f.id = any(array(
          select c.id from (
            select c.id, c.priority, c.run_at from unnest(p_queues) q(queue)
            cross join unnest(p_types) ty(type)
            cross join lateral (
              select id, priority, run_at from ${t('flows')} r
              where r.queue = q.queue and r.type = ty.type and r.wake_at <= p_now and r.status <> 'running'
              order by r.priority desc, r.run_at, r.id
              limit p_limit
              for update skip locked) c
            where ${free}
            union all
            select e.id, e.priority, e.run_at from unnest(p_queues) q(queue)
            cross join lateral (
              select id, priority, run_at from ${t('flows')} r
              where r.queue = q.queue and r.status = 'running' and r.wake_at <= p_now
                and r.type = any(p_types)
              order by r.priority desc, r.run_at, r.id
              limit p_limit
              for update skip locked) e
            where ${free}) c
          order by c.priority desc, c.run_at, c.id
          limit p_limit))
        returning f)
      ${claimedRows(t)};
    end
    $fn$`;
}

/** `ergon_next_wake(queues, types)`: the earliest `wake_at` of those queues and types, ready or running. */
function nextWakeFunction(schema: string): RawBuilder<unknown> {
  const t = (table: string) => sql.id(schema, table);
  return sql`create or replace function ${t(NEXT_WAKE_FUNCTION)}(p_queues text[], p_types text[])
    returns bigint
    language plpgsql stable ${PLANNING}
    as $fn$
    begin
      return least(
        (select min(m.at) from unnest(p_queues) q(queue)
         cross join unnest(p_types) ty(type)
         cross join lateral (select min(w.wake_at) as at from ${t('flows')} w
                             where ${WAKE_KEY} = q.queue || chr(31) || ty.type
                               and w.wake_at is not null and w.status <> 'running') m),
        (select min(w.wake_at) from unnest(p_queues) q(queue)
         join ${t('flows')} w on w.queue = q.queue
         where w.status = 'running' and w.wake_at is not null and w.type = any(p_types)));
    end
    $fn$`;
}

/** The indexes of migration 0008 (built before it, concurrently, on an upgrade: `index-builds.ts`). */
export function readyIndexes(schema: string): readonly IndexBuild[] {
  const flows = sql.id(schema, 'flows');
  return [
    {
      name: 'flows_ready',
      definition: sql`${flows} (queue, type, priority desc, run_at, id, wake_at) where ${READY}`,
    },
    {
      name: 'flows_fair_ready',
      definition: sql`${flows} (queue, priority desc, fair_tag nulls first, run_at, id, wake_at) where ${READY}`,
    },
    { name: 'flows_wake_ready', definition: sql`${flows} (${WAKE_KEY}, wake_at) where ${READY}` },
    { name: 'flows_lease', definition: sql`${flows} (queue, concurrency_key, wake_at) where ${LEASED}` },
  ];
}

/**
 * Replaces the claim, wake and running indexes (see the module notes) and the functions reading them.
 * The new indexes exist already after an upgrade (`index-builds.ts`); the old ones may be gone after
 * a failed run of this migration.
 */
export function readyIndexMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      for (const index of readyIndexes(schema)) await ensureIndex(db, schema, index, false);
      for (const index of ['flows_claim', 'flows_fair', 'flows_wake_key', 'flows_running', 'flows_held'])
        await sql`drop index if exists ${sql.id(schema, index)}`.execute(db);
      await claimFunction(schema).execute(db);
      await nextWakeFunction(schema).execute(db);
    },
  };
}
