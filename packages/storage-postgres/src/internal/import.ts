/**
 * `importFlow` on PostgreSQL: the flow row, its history rows and its signals
 * in one transaction. The flow row goes first with `ON CONFLICT DO NOTHING`:
 * when the id exists nothing else is written (first write wins).
 *
 * @module
 */
import {
  type ImportFlowRequest,
  type ImportFlowResult,
  importedFlowColumns,
  importReadyEvent,
} from '@ergon/core';
import type { Kysely } from 'kysely';
import type { Context } from './context.js';
import { adhoc } from './db.js';
import { flowRecord } from './lifecycle.js';
import { type FlowRow, toFlowRecord } from './rows.js';
import type { Schema } from './schema.js';

/** Imports one flow in a transaction. */
export function importFlow(
  ctx: Context,
  kysely: Kysely<Schema>,
  request: ImportFlowRequest,
): Promise<ImportFlowResult> {
  const { flow } = request;
  return ctx.db.transaction(async (tx) => {
    const inserted = await tx.query<FlowRow>(
      adhoc(
        kysely
          .insertInto('flows')
          .values({ ...importedFlowColumns(flow), cancel_requested: flow.cancelRequested })
          .onConflict((oc) => oc.column('id').doNothing())
          .returningAll(),
      ),
    );
    const row = inserted.rows[0];
    if (!row) return { flow: await flowRecord(ctx, flow.id), created: false };
    if (request.history.length > 0) {
      await tx.query(
        adhoc(
          kysely.insertInto('history').values(
            request.history.map((r) => ({
              flow_id: flow.id,
              position: r.position,
              key: r.key,
              kind: r.kind,
              status: r.status,
              attempts: r.attempts,
              seq: r.seq ?? null,
              wake_at: r.wakeAt ?? null,
              started_at: r.startedAt,
              finished_at: r.finishedAt ?? null,
              error: r.error ?? null,
              result: r.result ?? null,
            })),
          ),
        ),
      );
    }
    // One by one, so `seq` (a sequence) keeps the given order.
    for (const signal of request.signals) {
      await tx.query(
        adhoc(
          kysely
            .insertInto('signals')
            .values({ flow_id: flow.id, name: signal.name, payload: signal.payload, sent_at: signal.sentAt }),
        ),
      );
    }
    const stored = toFlowRecord(row);
    const ready = importReadyEvent(stored, request.now);
    if (ready) {
      ctx.listener.noteQueue(flow.queue);
      tx.emit(ready);
    }
    return { flow: stored, created: true };
  });
}
