/**
 * Migration 0006: the claim and `nextWakeAt` as PL/pgSQL functions in the
 * store's schema, so their plans are made once per connection, not at every
 * call.
 *
 * As named prepared statements they were planned again on every call: their
 * parameters (arrays of queues and types, the time, the limit) made each
 * custom plan cheaper than the generic one, so PostgreSQL never switched.
 * Planning the claim took longer than running it (0.3–1 ms against 0.1–0.3 ms
 * on the bench machine), on every claim, idle polls included. A generic plan
 * made while the table is small can read it whole, though (a sequential scan
 * beats an index on a page or two), and it stays in use as the table grows,
 * until the next ANALYZE. So the functions plan generically
 * (`plan_cache_mode`) with sequential scans of the flows disabled
 * (`enable_seqscan`), both set for their own statements only: whatever the
 * table's statistics when the plan is made, the claim walks `flows_claim` and
 * updates by primary key, and the wake-up reads `flows_wake_key`. Their
 * statements are those the prepared statements ran, with the same snapshot
 * and locks.
 *
 * Migration 0008 (`ready-index.ts`) replaces both functions: they read other
 * indexes since.
 *
 * @module
 */
import { type Kysely, type Migration, type RawBuilder, sql } from 'kysely';
import { param } from './db.js';
import { WAKE_KEY } from './wake-index.js';

/** What a claim writes: the values as SQL (parameters of a statement, or a function's arguments). */
export interface ClaimValues {
  readonly workerId: RawBuilder<unknown>;
  readonly expiresAt: RawBuilder<unknown>;
  readonly now: RawBuilder<unknown>;
}

/** The columns a claim writes. `f` is the flow row, its `status` the value before the claim. */
export function claimSet({ workerId, expiresAt, now }: ClaimValues): RawBuilder<unknown> {
  return sql`status = 'running', fencing_token = f.fencing_token + 1, lease_owner = ${workerId},
    lease_expires_at = ${expiresAt}, run_count = f.run_count + 1,
    abandoned_runs = f.abandoned_runs + (f.status = 'running')::int, waits = '[]'::jsonb,
    updated_at = ${now}`;
}

/** A claim's values as parameters of a prepared statement (`param` names). */
export const CLAIM_PARAMS: ClaimValues = {
  workerId: sql`${param('workerId')}::text`,
  expiresAt: sql`${param('expiresAt')}::bigint`,
  now: sql`${param('now')}::bigint`,
};

/** Settings the functions plan their statements under (see the module notes). */
const PLANNING = sql.raw(`set plan_cache_mode = force_generic_plan set enable_seqscan = off`);

/** The function names, schema-qualified. */
export const CLAIM_FUNCTION = 'ergon_claim';
export const NEXT_WAKE_FUNCTION = 'ergon_next_wake';

/**
 * `ergon_claim(worker, queues, types, now, limit, expires_at)`: per (queue, type) of the queues
 * without flow control, the ready flows in claim order read from `flows_claim` and locked unless
 * another claimer holds them (SKIP LOCKED); the best `limit` of them claimed, found again by primary
 * key. Each row: `controlled` (a JSON array of the requested queues under flow control, which the
 * caller claims under their queue locks) and `flow` (a claimed flow's row, after the claim); one row
 * with a null `flow` when it claimed none.
 */
function claimFunction(schema: string): RawBuilder<unknown> {
  const t = (table: string) => sql.id(schema, table);
  const set = claimSet({
    workerId: sql.raw('p_worker'),
    expiresAt: sql.raw('p_expires'),
    now: sql.raw('p_now'),
  });
  return sql`create function ${t(CLAIM_FUNCTION)}(p_worker text, p_queues text[], p_types text[], p_now bigint,
      p_limit int, p_expires bigint)
    returns table (controlled text, flow ${t('flows')})
    language plpgsql volatile ${PLANNING}
    as $fn$
    begin
      return query
      with claimed as (
        update ${t('flows')} f set ${set}
        where f.id = any(array(
          select c.id from unnest(p_queues) q(queue)
          cross join unnest(p_types) ty(type)
          cross join lateral (
            select id, priority, run_at from ${t('flows')} r
            where r.queue = q.queue and r.type = ty.type and r.wake_at <= p_now
            order by r.priority desc, r.run_at, r.id
            limit p_limit
            for update skip locked) c
          where not exists (select 1 from ${t('queues')} cq
                            where cq.queue = q.queue and (cq.limits is not null or cq.keyed))
          order by c.priority desc, c.run_at, c.id
          limit p_limit))
        returning f)
      ${claimedRows(t)};
    end
    $fn$`;
}

/**
 * The end of the claim function's query: each claimed flow (CTE `claimed`, rows `f`) with the
 * requested queues under flow control, or one row of those alone when it claimed none.
 */
export function claimedRows(t: (table: string) => RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`select x.names, claimed.f
      from (select coalesce(json_agg(cq.queue)::text, '[]') as names from ${t('queues')} cq
            where cq.queue = any(p_queues) and (cq.limits is not null or cq.keyed)) x
      left join claimed on true`;
}

/** `ergon_next_wake(queues, types)`: the earliest `wake_at` of those queues and types, one index seek each. */
function nextWakeFunction(schema: string): RawBuilder<unknown> {
  const t = (table: string) => sql.id(schema, table);
  return sql`create function ${t(NEXT_WAKE_FUNCTION)}(p_queues text[], p_types text[])
    returns bigint
    language plpgsql stable ${PLANNING}
    as $fn$
    begin
      return (select min(m.at) from unnest(p_queues) q(queue)
              cross join unnest(p_types) ty(type)
              cross join lateral (select min(w.wake_at) as at from ${t('flows')} w
                                  where ${WAKE_KEY} = q.queue || chr(31) || ty.type
                                    and w.wake_at is not null) m);
    end
    $fn$`;
}

/** Creates the functions. */
export function functionsMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await claimFunction(schema).execute(db);
      await nextWakeFunction(schema).execute(db);
    },
  };
}
