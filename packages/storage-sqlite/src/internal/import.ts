/**
 * `importFlow` on SQLite: the flow row, its history rows and its signals in
 * one IMMEDIATE transaction; a flow whose id exists is left as it is.
 *
 * @module
 */
import { type ImportFlowRequest, type ImportFlowResult, importReadyEvent, type Wait } from '@ergon/core';
import type { Kysely } from 'kysely';
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

/** Only the waits' own fields, so the stored JSON is the store's. */
function ownWaits(waits: readonly Wait[]): Wait[] {
  return waits.map((w): Wait => {
    if (w.kind === 'timer') return { kind: 'timer', at: w.at, position: w.position };
    if (w.kind === 'signal') return { kind: 'signal', name: w.name, position: w.position };
    return { kind: 'child', flowId: w.flowId, position: w.position };
  });
}

/** Imports one flow. Runs in a write transaction. */
export function importFlow(ctx: ImportContext, request: ImportFlowRequest): ImportFlowResult {
  const { flow } = request;
  const existing = ctx.q.flow.get({ id: flow.id });
  if (existing) return { flow: toFlowRecord(existing), created: false };
  ctx.adhoc.run(
    ctx.kysely.insertInto('flows').values({
      id: flow.id,
      type: flow.type,
      queue: flow.queue,
      status: flow.status,
      priority: flow.priority,
      input: flow.input,
      result: flow.result ?? null,
      error: flow.error ?? null,
      parent_id: flow.parentId ?? null,
      run_at: flow.runAt ?? null,
      fencing_token: flow.fencingToken,
      lease_owner: flow.leaseOwner ?? null,
      lease_expires_at: flow.leaseExpiresAt ?? null,
      waits: JSON.stringify(ownWaits(flow.waits)),
      cancel_requested: flow.cancelRequested ? 1 : 0,
      run_count: flow.runCount,
      abandoned_runs: flow.abandonedRuns ?? 0,
      last_error: flow.lastError ?? null,
      progress: flow.progress ?? null,
      progress_at: flow.progressAt ?? null,
      trace_context: flow.traceContext ?? null,
      created_at: flow.createdAt,
      updated_at: flow.updatedAt,
      finished_at: flow.finishedAt ?? null,
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
