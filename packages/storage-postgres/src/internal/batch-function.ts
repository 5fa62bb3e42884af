/**
 * Migration 0010: the batch of writes (`applyWrites`, `batch.ts`) as the
 * PL/pgSQL function `ergon_batch`, so its plan is made once per connection
 * (`functions.ts` says why for the claim; the same held here). As a prepared
 * statement each connection's first five calls were planned for their values,
 * and on a table whose statistics counted few running flows those plans read
 * every flow (a sequential scan: 8 ms for 50 flows on 10,000, against 1.3 ms
 * by primary key), which on a new worker's connections is most of its calls.
 *
 * Records and finishes come as JSON arrays (`batch-queries.ts`). The planner
 * takes a set-returning function for 100 rows, which made a scan of every
 * flow look cheaper than 100 lookups by key: each list is cut to its length
 * (`limit`, a value the plan does not know, which it takes for a tenth), and
 * the record's fencing check is a lateral lookup, one per record.
 *
 * Each row keeps its single statement's checks: a record is written only
 * under its flow's lease with no cancel pending, share-locking the flow row
 * (as `record_fenced`), and first write wins; a finish is fenced, only for a
 * flow without a parent (as `finish_fast`), and only when each record of its
 * flow in the statement passes the record's check too, on the row the finish
 * locks: those records, a run's last ones, need no share lock of their own
 * (one lock and one WAL record fewer per flow that ends in the batch). What it
 * returns are the writes it did not make (as a rule none: no rows to read
 * back); the caller sends those down their single, slower paths.
 *
 * Every sub-statement sees one snapshot, so the statement applies writes as if
 * records came before finishes: the caller never puts a record after its
 * flow's finish, one position twice, or two finishes of a flow in one
 * statement (see `batch.ts`).
 *
 * @module
 */
import { type Kysely, type Migration, type RawBuilder, sql } from 'kysely';
import { PLANNING } from './ready-index.js';

/** The function's name. */
export const BATCH_FUNCTION = 'ergon_batch';

/**
 * `ergon_batch(records, record_count, finishes, finish_count)`: applies the writes; one row per write
 * it did not make: `o_op` (`r` a record, `f` a finish) and `o_n`, its place in its list (from 1).
 */
function batchFunction(schema: string): RawBuilder<unknown> {
  const t = (table: string) => sql.id(schema, table);
  return sql`create or replace function ${t(BATCH_FUNCTION)}(p_records json, p_record_count int,
      p_finishes json, p_finish_count int)
    returns table (o_op text, o_n bigint)
    language plpgsql volatile ${PLANNING}
    as $fn$
    begin
      return query
      with rw as (
        select * from rows from (json_to_recordset(p_records) as (f text, t bigint, p bigint, k text, d text,
          s text, a int, q bigint, w bigint, b bigint, e bigint, x text, r text))
          with ordinality as rw(flow_id, token, position, key, kind, status, attempts, seq, wake_at,
            started_at, finished_at, error, result, n)
        limit p_record_count),
      fw as (
        select * from rows from (json_to_recordset(p_finishes) as (f text, t bigint, s text, r text, x text,
          m bigint, h int))
          with ordinality as fw(id, token, status, result, error, now, records, n)
        limit p_finish_count),
      fin as (
        update ${t('flows')} f set status = fw.status, result = fw.result,
          error = case when fw.status = 'cancelled' then coalesce(f.error, fw.error) else fw.error end,
          waits = '[]'::jsonb, run_at = null, lease_owner = null, lease_expires_at = null,
          abandoned_runs = 0, last_error = null, finished_at = fw.now, updated_at = fw.now
        from fw
        where f.id = fw.id and f.fencing_token = fw.token
          and f.status = 'running' and f.parent_id is null
          and (fw.records = 0 or fw.records = 1 and not f.cancel_requested)
        returning f.id),
      held as (
        select rw.* from rw join fin on fin.id = rw.flow_id
        union all
        select rw.* from rw cross join lateral (
          select from ${t('flows')} f
          where f.id = rw.flow_id and f.fencing_token = rw.token and f.status = 'running'
            and not f.cancel_requested
          for share) f
        where not exists (select 1 from fin where fin.id = rw.flow_id)),
      ins as (
        insert into ${t('history')} as history (flow_id, position, key, kind, status, attempts, seq,
          wake_at, started_at, finished_at, error, result)
        select held.flow_id, held.position, held.key, held.kind, held.status, held.attempts, held.seq,
          held.wake_at, held.started_at, held.finished_at, held.error, held.result from held
        on conflict (flow_id, position) do update set key = excluded.key, kind = excluded.kind,
          status = excluded.status, attempts = excluded.attempts, seq = excluded.seq,
          wake_at = excluded.wake_at, started_at = excluded.started_at,
          finished_at = excluded.finished_at, error = excluded.error, result = excluded.result
          where history.status = 'waiting'
        returning history.flow_id, history.position)
      select 'r'::text, rw.n from rw
      where not exists (select 1 from ins where ins.flow_id = rw.flow_id and ins.position = rw.position)
      union all
      select 'f'::text, fw.n from fw where not exists (select 1 from fin where fin.id = fw.id);
    end
    $fn$`;
}

/** Creates the function. */
export function batchFunctionMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await batchFunction(schema).execute(db);
    },
  };
}
