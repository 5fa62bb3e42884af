/**
 * History statements. First write wins through the `(flow_id, position)` key:
 * the upsert replaces a `waiting` record only, so a final one is kept.
 *
 * @module
 */
import { sql } from 'kysely';
import { param } from './db.js';
import type { Builder } from './queries.js';
import type { HistoryRow } from './rows.js';

const str = (name: string) => param<string>(name);
const num = (name: string) => param<number>(name);

/** The columns of a history record, in table order. */
const COLUMNS = sql`flow_id, position, key, kind, status, attempts, seq, wake_at, started_at, finished_at, error, result`;

/** A record's values after `flow_id`, each cast to its column's type. */
const VALUES_AFTER_FLOW = sql`${num('position')}::bigint, ${str('key')}::text, ${str('kind')}::text,
  ${str('status')}::text, ${num('attempts')}::int, ${num('seq')}::bigint, ${num('wakeAt')}::bigint,
  ${num('startedAt')}::bigint, ${num('finishedAt')}::bigint, ${str('error')}::text, ${str('result')}::text`;

/** The upsert's update: every field, only over a `waiting` record. */
const KEEP_FINAL = sql`on conflict (flow_id, position) do update set key = excluded.key, kind = excluded.kind,
  status = excluded.status, attempts = excluded.attempts, seq = excluded.seq, wake_at = excluded.wake_at,
  started_at = excluded.started_at, finished_at = excluded.finished_at, error = excluded.error,
  result = excluded.result
  where history.status = 'waiting'`;

/** The history statements of a store. */
export function historyQueries(b: Builder) {
  const { t, raw } = b;
  return {
    /**
     * The hot path, fencing check and first-write-wins write in one statement: writes the record
     * only if `token` holds the flow's lease and no cancellation is pending. The flow row is
     * share-locked, so a claim committing meanwhile is waited for and then seen (the token no
     * longer matches): a stale write is never recorded. Returns no row when it wrote nothing.
     */
    recordFenced: raw<{ ok: number }>(
      'record_fenced',
      sql`insert into ${t('history')} as history (${COLUMNS})
          select f.id, ${VALUES_AFTER_FLOW} from ${t('flows')} f
          where f.id = ${str('flowId')}::text and f.fencing_token = ${num('token')}::bigint
            and f.status = 'running' and not f.cancel_requested
          for share
          ${KEEP_FINAL}
          returning 1 as ok`,
    ),
    /** The flow's lease holder, share-locked for a history write. */
    holder: raw<{ status: string; fencing_token: number; cancel_requested: boolean }>(
      'holder',
      sql`select status, fencing_token, cancel_requested from ${t('flows')}
          where id = ${str('flowId')}::text for share`,
    ),
    /** The same write once the fencing check has passed. */
    record: raw<{ ok: number }>(
      'record',
      sql`insert into ${t('history')} as history (${COLUMNS})
          values (${str('flowId')}::text, ${VALUES_AFTER_FLOW})
          ${KEEP_FINAL}
          returning 1 as ok`,
    ),
    historyAt: raw<HistoryRow>(
      'history_at',
      sql`select * from ${t('history')} where flow_id = ${str('flowId')}::text and position = ${num('position')}::bigint`,
    ),
    history: raw<HistoryRow>(
      'history',
      sql`select * from ${t('history')} where flow_id = ${str('flowId')}::text order by position`,
    ),
  };
}
