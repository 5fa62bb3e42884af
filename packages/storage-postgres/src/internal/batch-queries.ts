/**
 * The batch statement: many flows' history records and finishes in one
 * statement (one round trip, one commit), the arrays of each column passed
 * whole and read back with `unnest`. Each row keeps its single statement's
 * checks: a record is written only under its flow's lease with no cancel
 * pending, share-locking the flow row (as `record_fenced`), and first write
 * wins; a finish is fenced, only for a flow without a parent (as
 * `finish_fast`), and only when each record of its flow in the statement
 * passed its own check. What it returns are the writes it made; the caller
 * sends the others down their single, slower paths.
 *
 * Every sub-statement sees one snapshot, so the statement applies writes as if
 * records came before finishes: the caller never puts a record after its
 * flow's finish, one position twice, or two finishes of a flow in one
 * statement (see `batch.ts`). The plan reads each flow by primary key, one
 * lookup per id passed: no index can answer `status = 'running'` alone (see
 * `ready-index.ts`; with one, the plan read every running flow and tested it
 * against the ids, most of the statement's time), and matching the flows by
 * `id = any(…)` of the ids as well made it test every flow read against every
 * id passed.
 *
 * @module
 */
import { sql } from 'kysely';
import { param } from './db.js';
import type { Builder } from './queries.js';
import type { FlowRow } from './rows.js';

const arr = (name: string) => param<unknown[]>(name);

/** What the batch statement reports: `r` a written record (flow, position), `f` a finished flow. */
export interface BatchRow {
  op: 'r' | 'f';
  id: string;
  position: number | null;
}

/** The batch statements of a store. */
export function batchQueries(b: Builder) {
  const { t, raw } = b;
  return {
    batch: raw<BatchRow>(
      'batch',
      sql`with rw as (
            select * from unnest(${arr('rFlow')}::text[], ${arr('rToken')}::bigint[], ${arr('rPosition')}::bigint[],
              ${arr('rKey')}::text[], ${arr('rKind')}::text[], ${arr('rStatus')}::text[], ${arr('rAttempts')}::int[],
              ${arr('rSeq')}::bigint[], ${arr('rWakeAt')}::bigint[], ${arr('rStartedAt')}::bigint[],
              ${arr('rFinishedAt')}::bigint[], ${arr('rError')}::text[], ${arr('rResult')}::text[])
              as rw(flow_id, token, position, key, kind, status, attempts, seq, wake_at, started_at,
                finished_at, error, result)),
          held as (
            select rw.* from rw join ${t('flows')} f on f.id = rw.flow_id
            where f.fencing_token = rw.token and f.status = 'running'
              and not f.cancel_requested
            for share of f),
          ins as (
            insert into ${t('history')} as history (flow_id, position, key, kind, status, attempts, seq,
              wake_at, started_at, finished_at, error, result)
            select flow_id, position, key, kind, status, attempts, seq, wake_at, started_at, finished_at,
              error, result from held
            on conflict (flow_id, position) do update set key = excluded.key, kind = excluded.kind,
              status = excluded.status, attempts = excluded.attempts, seq = excluded.seq,
              wake_at = excluded.wake_at, started_at = excluded.started_at,
              finished_at = excluded.finished_at, error = excluded.error, result = excluded.result
              where history.status = 'waiting'
            returning flow_id, position),
          fw as (
            select * from unnest(${arr('fId')}::text[], ${arr('fToken')}::bigint[], ${arr('fStatus')}::text[],
              ${arr('fResult')}::text[], ${arr('fError')}::text[], ${arr('fNow')}::bigint[])
              as fw(id, token, status, result, error, now)),
          fin as (
            update ${t('flows')} f set status = fw.status, result = fw.result,
              error = case when fw.status = 'cancelled' then coalesce(f.error, fw.error) else fw.error end,
              waits = '[]'::jsonb, run_at = null, lease_owner = null, lease_expires_at = null,
              abandoned_runs = 0, last_error = null, finished_at = fw.now, updated_at = fw.now
            from fw
            where f.id = fw.id and f.fencing_token = fw.token
              and f.status = 'running' and f.parent_id is null
              and not exists (
                select 1 from rw where rw.flow_id = fw.id and not exists (
                  select 1 from held where held.flow_id = rw.flow_id and held.position = rw.position))
            returning f.id)
          select 'r' as op, flow_id as id, position from ins
          union all
          select 'f' as op, id, null as position from fin`,
    ),
  };
}

/** The create statement of a store (`createFlows`): many new flows, some already claimed. */
export function createQueries(b: Builder) {
  const { t, raw } = b;
  return {
    // A row per new flow; `cWorker` set: inserted running under that lease (fencing token 1,
    // first run), as a claim of it would leave it. Existing ids are left as they are.
    insertFlows: raw<FlowRow>(
      'insert_flows',
      sql`insert into ${t('flows')} (id, type, queue, status, priority, input, parent_id, run_at,
            trace_context, fencing_token, lease_owner, lease_expires_at, run_count, created_at, updated_at)
          select c.id, c.type, c.queue, case when c.worker is null then 'pending' else 'running' end,
            c.priority, c.input, c.parent_id, c.run_at, c.trace_context,
            case when c.worker is null then 0 else 1 end, c.worker, c.expires_at,
            case when c.worker is null then 0 else 1 end, c.now, c.now
          from unnest(${arr('cId')}::text[], ${arr('cType')}::text[], ${arr('cQueue')}::text[],
            ${arr('cPriority')}::bigint[], ${arr('cInput')}::text[], ${arr('cParent')}::text[],
            ${arr('cRunAt')}::bigint[], ${arr('cTrace')}::text[], ${arr('cWorker')}::text[],
            ${arr('cExpiresAt')}::bigint[], ${arr('cNow')}::bigint[])
            as c(id, type, queue, priority, input, parent_id, run_at, trace_context, worker, expires_at, now)
          on conflict (id) do nothing
          returning *`,
    ),
    flowsById: raw<FlowRow>(
      'flows_by_id',
      sql`select * from ${t('flows')} where id = any(${arr('ids')}::text[])`,
    ),
  };
}
