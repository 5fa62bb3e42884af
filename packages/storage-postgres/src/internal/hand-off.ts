/**
 * Hand-off (core's `ClaimRequest.park`, capability `handOff`): a worker whose
 * claim took fewer flows than it asked for is parked with the slots it has
 * left, in the `parked` table (migration 0007); a flow created meanwhile that
 * it could claim is claimed for it by the create's own INSERT and announced
 * with a `handed` NOTIFY in the same statement. Between enqueue and start
 * there is then one commit (the create's) instead of two (the create's, then
 * the worker's claim after a `ready` NOTIFY).
 *
 * A claim parks or unparks its worker in the claim's function (`claim-park.ts`): parked when it
 * asked to (`park`) and took fewer than `limit`, unparked otherwise. The row is
 * written only when it changes or has less than half its minute left, and a
 * claim that took nothing commits without waiting for the WAL flush (a parked
 * row lost with a crashed server costs one `ready` round trip, nothing more).
 * A create hands off a flow due now, in a queue without limits, when nothing
 * of its queue and type is due before it (first come, first served), to a
 * parked worker with a slot, locked with SKIP LOCKED so concurrent creates
 * take different slots; the lease is the worker's hand-off lease (at most
 * 2 s: a lost event costs little), and the worker renews it when it hears.
 * A parked row lapses a minute after its claim; `removeWorker` and the
 * reaping of lapsed workers delete it.
 *
 * @module
 */
import { type Kysely, type Migration, type RawBuilder, sql } from 'kysely';
import { param } from './db.js';
import type { Builder } from './queries.js';

/** How long a park lasts without a claim renewing it. */
export const PARK_MS = 60_000;
/** The longest lease a hand-off takes (core's contract: `ClaimRequest.park`). */
export const HAND_OFF_LEASE_MAX_MS = 2000;
/**
 * Bytes of a `handed` NOTIFY payload, at most (PostgreSQL takes payloads shorter than 8000): a
 * flow whose row would not fit is not handed off. Its text columns count as JSON escapes them,
 * and 1,000 bytes are left for the column names and the other values.
 */
const HANDED_ROW_BYTES = 7500;
const HANDED_TEXT_BYTES = HANDED_ROW_BYTES - 1000;

/** Migration 0007: the parked workers. */
export function handOffMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await sql`create table ${sql.id(schema, 'parked')} (
                  worker_id text primary key,
                  queues text[] not null,
                  types text[] not null,
                  slots integer not null,
                  lease_ms bigint not null,
                  until_at bigint not null)`.execute(db);
    },
  };
}

const str = (name: string) => param<string>(name);
const num = (name: string) => param<number>(name);

/** The values of a create that may hand off, as SQL: a statement's parameters or a procedure's arguments. */
export interface HandValues {
  readonly id: RawBuilder<unknown>;
  readonly type: RawBuilder<unknown>;
  readonly queue: RawBuilder<unknown>;
  readonly priority: RawBuilder<unknown>;
  readonly input: RawBuilder<unknown>;
  readonly parentId: RawBuilder<unknown>;
  readonly runAt: RawBuilder<unknown>;
  readonly traceContext: RawBuilder<unknown>;
  readonly now: RawBuilder<unknown>;
  readonly channel: RawBuilder<unknown>;
  /** The `ready` payload to notify when the flow is not handed off; null: none. */
  readonly readyPayload: RawBuilder<unknown>;
}

/** A create's values as parameters of a prepared statement (`param` names: `NewFlow`'s, `channel`, `readyPayload`). */
export const HAND_PARAMS: HandValues = {
  id: sql`${str('id')}::text`,
  type: sql`${str('type')}::text`,
  queue: sql`${str('queue')}::text`,
  priority: sql`${num('priority')}::bigint`,
  input: sql`${str('input')}::text`,
  parentId: sql`${str('parentId')}::text`,
  runAt: sql`${num('runAt')}::bigint`,
  traceContext: sql`${str('traceContext')}::text`,
  now: sql`${num('now')}::bigint`,
  channel: sql`${str('channel')}::text`,
  readyPayload: sql`${str('readyPayload')}::text`,
};

/**
 * The create that may hand off: a flow inserted unless one with its id exists, running under a
 * parked worker's lease when one can take it (see the module notes), pending otherwise. A hand-off
 * notifies `handed` with the row; a pending flow notifies `readyPayload` when it is not null. Its
 * one row (none when the id existed): `id`, `lease_owner`, `lease_expires_at`, and `notified`
 * (not null when it notified).
 */
export function handInsert(t: Builder['t'], v: HandValues): RawBuilder<unknown> {
  const parked = t('parked' as never);
  const queues = t('queues' as never);
  return sql`with w as (
      select p.worker_id, p.lease_ms from ${parked} p
      where ${v.runAt} <= ${v.now} and p.slots > 0 and p.until_at > ${v.now}
        and ${v.queue} = any(p.queues) and ${v.type} = any(p.types)
        and not exists (select 1 from ${queues} cq
                        where cq.queue = ${v.queue} and (cq.limits is not null or cq.keyed))
        and not exists (select 1 from ${t('flows')} f
                        where (f.queue || chr(31) || f.type) = ${v.queue} || chr(31) || ${v.type}
                          and f.wake_at <= ${v.now} and f.status <> 'running')
        and not exists (select 1 from ${t('flows')} f
                        where f.queue = ${v.queue} and f.status = 'running'
                          and f.wake_at <= ${v.now} and f.type = ${v.type})
        and octet_length(to_json(${v.input})::text)
          + octet_length(to_json(coalesce(${v.traceContext}, ''))::text)
          + octet_length(to_json(coalesce(${v.parentId}, ''))::text)
          + octet_length(to_json(${v.type})::text) + octet_length(to_json(${v.queue})::text)
          + 2 * (octet_length(to_json(${v.id})::text) + octet_length(to_json(p.worker_id)::text))
          < ${sql.lit(HANDED_TEXT_BYTES)}
      order by p.until_at
      limit 1
      for update of p skip locked),
    ins as (
      insert into ${t('flows')} (id, type, queue, status, priority, input, parent_id, run_at,
        trace_context, fencing_token, lease_owner, lease_expires_at, run_count, created_at, updated_at)
      select ${v.id}, ${v.type}, ${v.queue},
        case when w.worker_id is null then 'pending' else 'running' end,
        ${v.priority}, ${v.input}, ${v.parentId}, ${v.runAt},
        ${v.traceContext}, case when w.worker_id is null then 0 else 1 end, w.worker_id,
        ${v.now} + w.lease_ms, case when w.worker_id is null then 0 else 1 end, ${v.now}, ${v.now}
      from (values (1)) one left join w on true
      on conflict (id) do nothing
      returning *),
    taken as (update ${parked} p set slots = p.slots - 1 from ins where p.worker_id = ins.lease_owner)
    select ins.id, ins.lease_owner, ins.lease_expires_at,
      case when ins.lease_owner is not null then pg_notify(${v.channel}, json_build_array('h',
             ins.id, ins.lease_owner,
             case when octet_length(to_json(ins)::text) < ${sql.lit(HANDED_ROW_BYTES)} then to_json(ins) end)::text)
           when ${v.readyPayload} is not null then pg_notify(${v.channel}, ${v.readyPayload}) end::text as notified
    from ins`;
}

/** What the create statement returns: the new flow's id, and its lease when it was handed off. */
export interface HandRow {
  id: string;
  lease_owner: string | null;
  lease_expires_at: number | null;
}

/** The statement of hand-off: the create that hands off (the claim that parks: `claim-park.ts`). */
export function handOffQueries(b: Builder) {
  const { t, raw } = b;
  return {
    // A flow inserted unless one with its id exists: running under a parked worker's lease when
    // one can take it (see the module notes), pending otherwise. A hand-off notifies `handed` in
    // the statement; a pending flow notifies `readyPayload` when given (an idle store, `lifecycle.ts`).
    insertFlowHand: raw<HandRow>('insert_flow_hand', handInsert(t, HAND_PARAMS)),
  };
}
