/**
 * Migration 0013: the batch of writes that announces its finished flows
 * itself, `ergon_batch_notify`: `ergon_batch` (migration 0010), then, when it
 * made every write, a NOTIFY of the payloads the caller packed for its
 * finishes, in the batch's own transaction.
 *
 * A batch that finished flows used to be followed by a transaction of its
 * own that only notified (`notifier.ts`): per batch of 50 one-step flows a
 * third round trip beside the claim and the batch, on a third connection,
 * and a third backend to wake. On a two-core machine a write to a socket
 * that wakes a backend is where a worker is preempted: in a worker's CPU
 * profile (pg-cycle.mjs, 40,000 flows) 14 % of its time was spent in
 * `writev`, a third of those calls the notify's.
 *
 * A transaction that notifies holds PostgreSQL's notify lock from its
 * commit record through the flush (`notifier.ts`), so notifying batches
 * commit one at a time. The caller notifies here only when no other change of
 * its store does, and its notifier is idle or the batch finishes many flows
 * ({@link Notifier.takeInlineMany}): a store sends its own batches one at a
 * time anyway, and a batch of 50 commits in a few ms where the flush takes a
 * fraction of one. When the batch refused a write (it returns rows), it
 * notifies nothing: the caller then sends the events of what it made as
 * before, after the slow paths of the rest.
 *
 * `ergon_batch` stays: processes of earlier versions call it.
 *
 * @module
 */
import { type Kysely, type Migration, type RawBuilder, sql } from 'kysely';
import { BATCH_FUNCTION } from './batch-function.js';

/** The function's name. */
export const BATCH_NOTIFY_FUNCTION = 'ergon_batch_notify';

/**
 * `ergon_batch_notify(records, record_count, finishes, finish_count, channel, payloads)`: the rows
 * of `ergon_batch`; when there are none, each payload notified on `channel`.
 */
function batchNotifyFunction(schema: string): RawBuilder<unknown> {
  const t = (name: string) => sql.id(schema, name);
  return sql`create or replace function ${t(BATCH_NOTIFY_FUNCTION)}(p_records json, p_record_count int,
      p_finishes json, p_finish_count int, p_channel text, p_payloads text[])
    returns table (o_op text, o_n bigint)
    language plpgsql volatile
    as $fn$
    declare
      v_refused int;
    begin
      return query select b.o_op, b.o_n
        from ${t(BATCH_FUNCTION)}(p_records, p_record_count, p_finishes, p_finish_count) b;
      get diagnostics v_refused = row_count;
      if v_refused = 0 then
        perform pg_notify(p_channel, p) from unnest(p_payloads) p;
      end if;
    end
    $fn$`;
}

/** Creates the function. */
export function batchNotifyMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await batchNotifyFunction(schema).execute(db);
    },
  };
}
