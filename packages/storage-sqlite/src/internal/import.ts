/**
 * `importFlow` on SQLite: the flow row, its history rows and its signals in
 * one IMMEDIATE transaction; a flow whose id exists is left as it is.
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
import { isControlled } from './flow-control.js';
import { writeRecord } from './history.js';
import type { TxContext } from './queries.js';
import { toFlowRecord } from './rows.js';
import type { Schema } from './schema.js';
import type { StatementCache } from './statements.js';

/** What the import needs beyond the transaction's statements. */
export interface ImportContext extends TxContext {
  readonly kysely: Kysely<Schema>;
  readonly adhoc: StatementCache;
}

/** Imports one flow. Runs in a write transaction. */
export function importFlow(ctx: ImportContext, request: ImportFlowRequest): ImportFlowResult {
  const { flow } = request;
  const existing = ctx.q.flow.get({ id: flow.id });
  if (existing) return { flow: toFlowRecord(existing), created: false };
  ctx.adhoc.run(
    ctx.kysely.insertInto('flows').values({
      ...importedFlowColumns(flow),
      cancel_requested: flow.cancelRequested ? 1 : 0,
      // In a controlled queue the flow joins the fair index (`fair-index.ts`).
      controlled: isControlled(ctx, flow.queue) ? 1 : null,
    }),
  );
  const row = ctx.q.flow.get({ id: flow.id });
  if (!row) throw new Error(`imported flow ${flow.id} is not readable in its own transaction`);
  for (const record of request.history) writeRecord(ctx, row.num, record);
  for (const signal of request.signals) {
    ctx.q.insertSignal.run({
      flowId: flow.id,
      name: signal.name,
      payload: signal.payload,
      now: signal.sentAt,
    });
  }
  const stored = toFlowRecord(row);
  const ready = importReadyEvent(stored, request.now);
  if (ready) ctx.emit(ready);
  return { flow: stored, created: true };
}
