/**
 * Migration 0009: the procedure `ergon_create`, a create that an idle worker
 * hears of before the create's WAL flush, and that returns after it.
 *
 * A create that notifies in its own statement (an idle store: `notifier.ts`;
 * a hand-off: `hand-off.ts`) sent its NOTIFY with its commit, and PostgreSQL
 * sends a commit's notifications only once the commit is flushed: the worker
 * waited for the disk (a flush is 0.8–1.2 ms on the bench machine, most of
 * the time between an enqueue and the start of its step). The procedure runs
 * the same statement, commits it without waiting for the flush
 * (`synchronous_commit = off` for that transaction only), so the NOTIFY goes
 * out at once, then takes a row lock on the new flow in a second transaction
 * and ends: that commit waits for the flush of its own WAL (the lock's), and
 * WAL is flushed in order, so the create is durable when the call returns,
 * as before, in one round trip. `FOR KEY SHARE`, the weakest row lock, blocks
 * none of a worker's writes to the flow (they update without changing its key,
 * or share-lock it); only a `FOR UPDATE` lock waits, for that flush at most.
 *
 * What changes is what others may see before the create is durable: a worker
 * may start the flow, and a reader may see it, during the flush. Should the
 * server crash then, the flow is gone with whatever its worker began (every
 * write of the worker's commits after the create's commit, so none of them
 * survives without the create), and the create's caller gets an error, as
 * when a crash comes before the commit: calls of the same id create it again.
 * A step of it may have run once already: steps run at least once anyway.
 *
 * @module
 */
import { type Kysely, type Migration, type RawBuilder, sql } from 'kysely';
import { HAND_PARAMS, type HandRow, type HandValues, handInsert } from './hand-off.js';
import type { Builder } from './queries.js';

/** The procedure's name. */
export const CREATE_PROCEDURE = 'ergon_create';

/** The procedure's arguments, by the names its body reads them under. */
const ARGS: HandValues = {
  id: sql.raw('p_id'),
  type: sql.raw('p_type'),
  queue: sql.raw('p_queue'),
  priority: sql.raw('p_priority'),
  input: sql.raw('p_input'),
  parentId: sql.raw('p_parent_id'),
  runAt: sql.raw('p_run_at'),
  traceContext: sql.raw('p_trace_context'),
  now: sql.raw('p_now'),
  channel: sql.raw('p_channel'),
  readyPayload: sql.raw('p_ready_payload'),
};

/**
 * `call ergon_create(id, type, queue, priority, input, parent_id, run_at, trace_context, now, channel,
 * ready_payload)`: the hand-off create (`handInsert`); its row comes back as the INOUT arguments
 * `o_id` (null when the id existed), `o_lease_owner` and `o_lease_expires_at`.
 */
function createProcedure(schema: string): RawBuilder<unknown> {
  const t = (table: string) => sql.id(schema, table);
  return sql`create or replace procedure ${t(CREATE_PROCEDURE)}(p_id text, p_type text, p_queue text,
      p_priority bigint, p_input text, p_parent_id text, p_run_at bigint, p_trace_context text, p_now bigint,
      p_channel text, p_ready_payload text, inout o_id text default null, inout o_lease_owner text default null,
      inout o_lease_expires_at bigint default null)
    language plpgsql
    as $fn$
    declare
      v_notified text;
    begin
      ${handInsert(t, ARGS)}
      into o_id, o_lease_owner, o_lease_expires_at, v_notified;
      if v_notified is not null then
        perform set_config('synchronous_commit', 'off', true);
        commit;
        perform 1 from ${t('flows')} f where f.id = o_id for key share;
      end if;
    end
    $fn$`;
}

/** Creates the procedure. */
export function createProcedureMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await createProcedure(schema).execute(db);
    },
  };
}

/** What a call of the procedure returns: the create statement's row, in its INOUT arguments. */
export interface CallRow {
  o_id: string | null;
  o_lease_owner: string | null;
  o_lease_expires_at: number | null;
}

/** The call of the procedure, with a create's values (`HAND_PARAMS`). */
export function procedureQueries(b: Builder) {
  const v = HAND_PARAMS;
  return {
    createCall: b.raw<CallRow>(
      'create_call',
      sql`call ${b.t(CREATE_PROCEDURE as never)}(${v.id}, ${v.type}, ${v.queue}, ${v.priority}, ${v.input},
            ${v.parentId}, ${v.runAt}, ${v.traceContext}, ${v.now}, ${v.channel}, ${v.readyPayload})`,
    ),
  };
}

/** The create statement's row (`HandRow`) from a call's; undefined when the id existed. */
export function handRowOf(row: CallRow | undefined): HandRow | undefined {
  if (!row || row.o_id === null) return undefined;
  return { id: row.o_id, lease_owner: row.o_lease_owner, lease_expires_at: row.o_lease_expires_at };
}
