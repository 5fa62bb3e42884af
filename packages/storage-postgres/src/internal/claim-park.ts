/**
 * Migration 0012: a worker's claim as one PL/pgSQL function, `ergon_claim_park`,
 * that claims, parks or unparks the worker (`hand-off.ts`) and returns the
 * claimed flows' columns as they are.
 *
 * The claim statement was a statement around `ergon_claim`: the function
 * returned each claimed row as one composite value, which the statement
 * materialised again and took apart column by column (23 field selections per
 * flow), and five CTEs decided on the parked row. Each call set up that plan
 * as well as the function's. Now the function's `UPDATE … RETURNING` sends
 * the columns back, and plain statements park or unpark after it, the park
 * one only when it has to write.
 *
 * The claim locks the flows it picks (`FOR UPDATE SKIP LOCKED`, as before) and
 * updates them by the row version it locked (`ctid`), not by a second lookup
 * of each in the primary key. A flow changed by another transaction after
 * the claim's snapshot was taken (its version locked then is newer than the
 * snapshot) is not updated, and so not claimed, this time: it stays ready for
 * the next claim, as a flow another claimer holds does (SKIP LOCKED).
 *
 * `ergon_claim` stays as migration 0008 left it; claims no longer call it.
 *
 * @module
 */
import { type Kysely, type Migration, type RawBuilder, sql } from 'kysely';
import { param } from './db.js';
import { claimSet } from './functions.js';
import { PARK_MS } from './hand-off.js';
import { type ClaimJsonRow, claimedJson } from './claimed.js';
import type { Builder } from './queries.js';
import { PLANNING } from './ready-index.js';
import type { FlowRow, SetByClaim } from './rows.js';

/** The function's name. */
export const CLAIM_PARK_FUNCTION = 'ergon_claim_park';

/**
 * The columns of a claimed flow the claim sends back, with their types: not those the claim itself
 * set to values the caller knows (status, lease, `waits`, `updated_at`: `toClaimedRecord` in
 * `rows.ts` fills them in), nor `wake_at`.
 */
const CLAIMED = {
  id: 'text',
  type: 'text',
  queue: 'text',
  priority: 'bigint',
  input: 'text',
  result: 'text',
  error: 'text',
  parent_id: 'text',
  run_at: 'bigint',
  fencing_token: 'bigint',
  cancel_requested: 'boolean',
  run_count: 'integer',
  abandoned_runs: 'integer',
  last_error: 'text',
  progress: 'text',
  progress_at: 'bigint',
  trace_context: 'text',
  concurrency_key: 'text',
  concurrency_limit: 'integer',
  debounce_key: 'text',
  fair_tag: 'bigint',
  created_at: 'bigint',
  finished_at: 'bigint',
} as const satisfies { [K in keyof FlowRow]?: string };

/** Fails to compile when a column of `flows` is neither sent back nor filled in. */
const EVERY_COLUMN: Record<Exclude<keyof FlowRow, keyof typeof CLAIMED | SetByClaim>, never> = {};
void EVERY_COLUMN;

const NAMES = Object.keys(CLAIMED);

/**
 * `ergon_claim_park(worker, queues, types, now, limit, expires_at, park, hand_lease_ms)`: the claim
 * of `ergon_claim` (migration 0008: ready flows from `flows_ready`, running ones whose lease ended
 * from `flows_lease`, per requested queue without flow control; the best `limit` claimed). Each row:
 * `controlled` (a JSON array of the requested queues under flow control) and a claimed flow's
 * columns; one row with those null when it claimed none, and then the transaction commits without
 * waiting for the WAL flush. Parks the worker when `park` and it took fewer than `limit`, unparks
 * it otherwise (`hand-off.ts`); a park row is written only when it changes or has less than half
 * its time left.
 */
function claimParkFunction(schema: string): RawBuilder<unknown> {
  const t = (table: string) => sql.id(schema, table);
  const set = claimSet({
    workerId: sql.raw('p_worker'),
    expiresAt: sql.raw('p_expires'),
    now: sql.raw('p_now'),
  });
  const free = sql`not exists (select 1 from ${t('queues')} cq
                               where cq.queue = q.queue and (cq.limits is not null or cq.keyed))`;
  const columns = sql.raw(
    Object.entries(CLAIMED)
      .map(([name, type]) => `${name} ${type}`)
      .join(', '),
  );
  const returned = sql.raw(NAMES.map((name) => `f.${name}`).join(', '));
  const parked = t('parked');
  return sql`create or replace function ${t(CLAIM_PARK_FUNCTION)}(p_worker text, p_queues text[], p_types text[],
      p_now bigint, p_limit int, p_expires bigint, p_park boolean, p_hand_lease bigint)
    returns table (controlled text, ${columns})
    language plpgsql volatile ${PLANNING}
    as $fn$
    #variable_conflict use_column
    declare
      v_controlled text;
      v_taken int;
    begin
      select coalesce(json_agg(cq.queue)::text, '[]') into v_controlled from ${t('queues')} cq
      where cq.queue = any(p_queues) and (cq.limits is not null or cq.keyed);
      return query
        update ${t('flows')} f set ${set}
        where f.ctid = any(array(
          select c.ctid from (
            select c.ctid, c.priority, c.run_at, c.id from unnest(p_queues) q(queue)
            cross join unnest(p_types) ty(type)
            cross join lateral (
              select r.ctid, r.id, r.priority, r.run_at from ${t('flows')} r
              where r.queue = q.queue and r.type = ty.type and r.wake_at <= p_now and r.status <> 'running'
              order by r.priority desc, r.run_at, r.id
              limit p_limit
              for update skip locked) c
            where ${free}
            union all
            select e.ctid, e.priority, e.run_at, e.id from unnest(p_queues) q(queue)
            cross join lateral (
              select r.ctid, r.id, r.priority, r.run_at from ${t('flows')} r
              where r.queue = q.queue and r.status = 'running' and r.wake_at <= p_now
                and r.type = any(p_types)
              order by r.priority desc, r.run_at, r.id
              limit p_limit
              for update skip locked) e
            where ${free}) c
          order by c.priority desc, c.run_at, c.id
          limit p_limit))
        returning v_controlled, ${returned};
      get diagnostics v_taken = row_count;
      if v_taken = 0 then
        -- Nothing claimed: nothing to make durable but a park, which a crash may lose.
        perform set_config('synchronous_commit', 'off', true);
        controlled := v_controlled;
        return next;
      end if;
      if p_park and v_taken < p_limit then
        if not exists (select 1 from ${parked} p where p.worker_id = p_worker
                         and p.slots = p_limit - v_taken and p.queues = p_queues and p.types = p_types
                         and p.lease_ms = p_hand_lease and p.until_at > p_now + ${sql.lit(PARK_MS / 2)}) then
          insert into ${parked} as p (worker_id, queues, types, slots, lease_ms, until_at)
          values (p_worker, p_queues, p_types, p_limit - v_taken, p_hand_lease, p_now + ${sql.lit(PARK_MS)})
          on conflict (worker_id) do update set queues = excluded.queues, types = excluded.types,
            slots = excluded.slots, lease_ms = excluded.lease_ms, until_at = excluded.until_at;
        end if;
      else
        delete from ${parked} p where p.worker_id = p_worker;
      end if;
    end
    $fn$`;
}

/** Creates the function. */
export function claimParkMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await claimParkFunction(schema).execute(db);
    },
  };
}

const str = (name: string) => param<string>(name);
const num = (name: string) => param<number>(name);

/** The claim statement of a store. */
export function claimParkQueries(b: Builder) {
  const { t, raw } = b;
  return {
    // The claim of the queues without flow control, which also names the requested queues that are
    // controlled, and parks or unparks its worker (see the module notes); one row, its flows as one
    // JSON text (`claimed.ts`).
    claimPark: raw<ClaimJsonRow>(
      'claim_park_json',
      claimedJson(
        sql`${t(CLAIM_PARK_FUNCTION as never)}(${str('workerId')}::text, ${param('queues')}::text[],
            ${param('types')}::text[], ${num('now')}::bigint, ${num('limit')}::int, ${num('expiresAt')}::bigint,
            ${param('park')}::boolean, ${num('handLeaseMs')}::bigint)`,
      ),
    ),
  };
}
