/**
 * Worker registry statements. A heartbeat registers its worker, removes the
 * workers whose heartbeat lapsed and expires the leases they held, in one
 * statement that returns the queues to tell.
 *
 * @module
 */
import { sql } from 'kysely';
import { param } from './db.js';
import type { Builder } from './queries.js';
import type { WorkersTable } from './schema.js';

const str = (name: string) => param<string>(name);
const num = (name: string) => param<number>(name);

/** The worker registry's statements. */
export function workerQueries(b: Builder) {
  const { t, raw } = b;
  return {
    heartbeat: raw<{ reaped: string[]; queues: string[] }>(
      'heartbeat',
      // Never back in time; a worker that lapsed itself judges no one this beat (see the contract).
      sql`with previous as (select last_seen_at from ${t('workers')} where id = ${str('id')}::text),
          up as (
            insert into ${t('workers')} as w (id, kind, name, host, pid, queues, types, concurrency, started_at,
              last_seen_at, stats)
            values (${str('id')}::text, ${str('kind')}::text, ${str('name')}::text, ${str('host')}::text,
              ${num('pid')}::int, ${param('queues')}::text[], ${param('types')}::text[], ${num('concurrency')}::int,
              ${num('startedAt')}::bigint, ${num('now')}::bigint, ${str('stats')}::text)
            on conflict (id) do update set kind = excluded.kind, name = excluded.name, host = excluded.host,
              pid = excluded.pid, queues = excluded.queues, types = excluded.types,
              concurrency = excluded.concurrency, started_at = excluded.started_at,
              last_seen_at = excluded.last_seen_at, stats = excluded.stats
            where w.last_seen_at <= excluded.last_seen_at),
          dead as (
            delete from ${t('workers')} where last_seen_at < ${num('before')}::bigint and id <> ${str('id')}::text
              and not exists (select 1 from previous where last_seen_at < ${num('before')}::bigint)
            returning id),
          unparked as (delete from ${t('parked' as never)} where worker_id in (select id from dead)),
          -- A running flow's wake_at is its lease's end: the running flows are read on flows_lease.
          expired as (
            update ${t('flows')} set lease_expires_at = ${num('now')}::bigint
            where status = 'running' and lease_owner in (select id from dead)
              and wake_at > ${num('now')}::bigint
            returning queue)
          select coalesce((select array_agg(id order by id) from dead), '{}') as reaped,
            coalesce((select array_agg(distinct queue) from expired), '{}') as queues`,
    ),
    workers: raw<WorkersTable>('workers', sql`select * from ${t('workers')} order by id`),
    removeWorker: raw<{ expired: number; queues: string[] }>(
      'remove_worker',
      sql`with d as (delete from ${t('workers')} where id = ${str('id')}::text),
          unparked as (delete from ${t('parked' as never)} where worker_id = ${str('id')}::text),
          expired as (
            update ${t('flows')} set lease_expires_at = ${num('now')}::bigint
            where ${param('expire')}::boolean and status = 'running' and lease_owner = ${str('id')}::text
              and wake_at > ${num('now')}::bigint
            returning queue)
          select (select count(*) from expired) as expired,
            coalesce((select array_agg(distinct queue) from expired), '{}') as queues`,
    ),
  };
}
