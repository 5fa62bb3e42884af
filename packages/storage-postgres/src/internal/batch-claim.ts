/**
 * Migration 0015: a batch of writes that ends with its worker's next claim,
 * `ergon_batch_claim` (`FinishRequest.next`, `batch-next.ts`): `ergon_batch`
 * (migration 0010), then, when it made every write, the NOTIFY of its finished
 * flows (as `ergon_batch_notify`, when the caller packed payloads) and the
 * claim of `ergon_claim_park` (migration 0012), in the batch's transaction and
 * round trip. A worker at low concurrency sent a finish and then a claim for
 * each flow it ran: now one call, one commit.
 *
 * Each is called as it is: the claim comes after the writes (a later
 * statement of the function, so it sees them: a slot its finish freed, a
 * lease its finish ended), and parks or unparks the worker as a claim does. A
 * claim that took nothing turns `synchronous_commit` off for its transaction
 * (nothing of its own to make durable): here the transaction holds the batch's
 * writes, so the setting is put back after it.
 *
 * When the batch refused a write (it returns rows), the function claims
 * nothing and notifies nothing: the caller sends the refused writes down their
 * single paths, then claims on its own, as it did before.
 *
 * @module
 */
import { type Kysely, type Migration, type RawBuilder, sql } from 'kysely';
import { BATCH_FUNCTION } from './batch-function.js';
import type { BatchRow } from './batch-queries.js';
import { CLAIM_PARK_FUNCTION } from './claim-park.js';
import { type ClaimJsonRow, claimedJson } from './claimed.js';
import { param } from './db.js';
import type { Builder } from './queries.js';

/** The function's name. */
export const BATCH_CLAIM_FUNCTION = 'ergon_batch_claim';

/**
 * `ergon_batch_claim(records, record_count, finishes, finish_count, channel, payloads, <the
 * arguments of ergon_claim_park>)`: `ergon_batch`'s rows (`o_op`, `o_n`); when there are none, each
 * payload notified on `channel` (unless it is null), and one row of the claim (`o_controlled`,
 * `o_flows`: the claim statement's JSON, `claimed.ts`).
 */
function batchClaimFunction(schema: string): RawBuilder<unknown> {
  const t = (name: string) => sql.id(schema, name);
  const claim = claimedJson(
    sql`${t(CLAIM_PARK_FUNCTION)}(p_worker, p_queues, p_types, p_now, p_limit, p_expires, p_park, p_hand_lease)`,
  );
  return sql`create or replace function ${t(BATCH_CLAIM_FUNCTION)}(p_records json, p_record_count int,
      p_finishes json, p_finish_count int, p_channel text, p_payloads text[], p_worker text,
      p_queues text[], p_types text[], p_now bigint, p_limit int, p_expires bigint, p_park boolean,
      p_hand_lease bigint)
    returns table (o_op text, o_n bigint, o_controlled text, o_flows text)
    language plpgsql volatile
    as $fn$
    declare
      v_refused int;
      v_sync text;
    begin
      return query select b.o_op, b.o_n, null::text, null::text
        from ${t(BATCH_FUNCTION)}(p_records, p_record_count, p_finishes, p_finish_count) b;
      get diagnostics v_refused = row_count;
      if v_refused > 0 then
        return;
      end if;
      if p_channel is not null then
        perform pg_notify(p_channel, p) from unnest(p_payloads) p;
      end if;
      v_sync := current_setting('synchronous_commit');
      return query select null::text, null::bigint, j.controlled, j.flows from (${claim}) j;
      -- The batch's writes are durable at commit, whatever the claim took.
      perform set_config('synchronous_commit', v_sync, true);
    end
    $fn$`;
}

/** Creates the function. */
export function batchClaimMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await batchClaimFunction(schema).execute(db);
    },
  };
}

/** A row of the statement: a refused write (`op`, `n`), or the claim (`op` null). */
export type BatchClaimRow = { op: BatchRow['op'] | null; n: number | null } & ClaimJsonRow;

const num = (name: string) => param<number>(name);

/** The statement of a store. */
export function batchClaimQueries(b: Builder) {
  const { t, raw } = b;
  return {
    batchClaim: raw<BatchClaimRow>(
      'batch_claim',
      sql`select o_op as op, o_n as n, o_controlled as controlled, o_flows as flows
          from ${t(BATCH_CLAIM_FUNCTION as never)}(${param('records')}::json, ${num('recordCount')}::int,
            ${param('finishes')}::json, ${num('finishCount')}::int, ${param('channel')}::text,
            ${param('payloads')}::text[], ${param('workerId')}::text, ${param('queues')}::text[],
            ${param('types')}::text[], ${num('now')}::bigint, ${num('limit')}::int,
            ${num('expiresAt')}::bigint, ${param('park')}::boolean, ${num('handLeaseMs')}::bigint)`,
    ),
  };
}
