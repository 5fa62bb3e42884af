/**
 * History records: first write wins. A record's key (`history-keys.ts`) makes
 * "recorded once" a constraint, and the upsert replaces a `waiting` record
 * only; a final one is kept and returned.
 *
 * A write is normally one statement ({@link recordFast}): the fencing check is
 * the `WHERE` of an `INSERT … SELECT` from the flow row, so it needs no
 * explicit transaction. SQLite runs a lone write statement as a transaction
 * of its own that takes the write lock before it reads anything, as
 * `BEGIN IMMEDIATE` does: the check and the write see the same state. When that
 * statement writes nothing, {@link recordOperation} works out why in a
 * `BEGIN IMMEDIATE` transaction.
 *
 * @module
 */
import {
  type ConsumeSignalRequest,
  FlowNotFoundError,
  type OperationRecord,
  type RecordRequest,
  type RecordResult,
} from '@ergon/core';
import { historyId, PACKED_POSITIONS } from './history-keys.js';
import { fenceHolder } from './leases.js';
import type { TxContext } from './queries.js';
import { type HistoryRow, toOperationRecord } from './rows.js';

/**
 * The common case in one statement, outside an explicit transaction: writes `record` when
 * `lease` holds the flow, no cancellation is pending, the key is packed and no final record
 * holds the position. Returns undefined when it wrote nothing; then {@link recordOperation}
 * must run, in a transaction, to give the answer (or the error).
 */
export function recordFast({ q, held }: TxContext, request: RecordRequest): RecordResult | undefined {
  const lease = request;
  const { record } = request;
  const { position } = record;
  if (position >= PACKED_POSITIONS) return undefined;
  // A flow claimed here is found by row key, its history key computed here (`held-flows.ts`).
  const known = held.get(lease.flowId, lease.token);
  const id = known && historyId(known.num, position);
  // Missing required fields bind NULL and fail the NOT NULL constraints, as in the transactional path.
  const { key = null, kind = null, status = null, attempts = null, seq = null } = record;
  const { wakeAt = null, startedAt = null, finishedAt = null, error = null, result = null } = record;
  const { flowId, token } = lease;
  // In RECORD_BY_NUM_PARAMS and RECORD_FENCED_PARAMS order, passed as arguments: an array costs
  // better-sqlite3 more to bind, and spreading one made an array and a varargs call per record.
  const written = (
    known !== undefined && id !== undefined
      ? q.recordByNum.statement.run(
          id,
          position,
          key,
          kind,
          status,
          attempts,
          seq,
          wakeAt,
          startedAt,
          finishedAt,
          error,
          result,
          flowId,
          token,
          known.num,
        )
      : q.recordFenced.statement.run(
          position,
          position,
          key,
          kind,
          status,
          attempts,
          seq,
          wakeAt,
          startedAt,
          finishedAt,
          error,
          result,
          flowId,
          token,
        )
  ).changes;
  return written === 1 ? { record, existed: false, cancelRequested: false } : undefined;
}

/** Writes `record` unless a final record holds its position. Runs in a write transaction. */
export function recordOperation(ctx: TxContext, request: RecordRequest): RecordResult {
  const { record } = request;
  const flow = fenceHolder(ctx, request);
  const cancelRequested = flow.cancel_requested !== 0;
  if (writeRecord(ctx, flow.num, record)) return { record, existed: false, cancelRequested };
  const existing = readRecord(ctx, flow, record.position);
  if (!existing) throw new FlowNotFoundError(record.flowId);
  return { record: toOperationRecord(existing), existed: true, cancelRequested };
}

/** Pops the oldest buffered signal `name` into the completed record at its position. */
export function consumeSignal(ctx: TxContext, request: ConsumeSignalRequest): RecordResult | undefined {
  const { q } = ctx;
  const flow = fenceHolder(ctx, request);
  const { record, name } = request;
  const cancelRequested = flow.cancel_requested !== 0;
  const existing = readRecord(ctx, flow, record.position);
  if (existing && existing.status !== 'waiting') {
    return { record: toOperationRecord(existing), existed: true, cancelRequested };
  }
  const signal = q.oldestSignal.get({ flowId: flow.id, name });
  if (!signal) return undefined;
  q.deleteSignal.run({ seq: signal.seq });
  const written: OperationRecord = Object.freeze({ ...record, status: 'completed', result: signal.payload });
  writeRecord(ctx, flow.num, written);
  return { record: written, existed: false, cancelRequested };
}

/** A flow's history in position order: its packed records, then any spilled ones (all at higher positions). */
export function readHistory({ q }: TxContext, flowId: string): OperationRecord[] {
  const rows = q.history.all({ flowId });
  const spilled = q.spilled.all({ flowId });
  return (spilled.length === 0 ? rows : rows.concat(spilled)).map(toOperationRecord);
}

/** Upserts `record` under its key; true when written (inserted, or a waiting record replaced). */
export function writeRecord({ q }: TxContext, num: number, record: OperationRecord): boolean {
  const id = historyId(num, record.position);
  return id === undefined ? q.recordSpilled.run(record) === 1 : q.record.run({ ...record, id }) === 1;
}

function readRecord(
  { q }: TxContext,
  flow: { id: string; num: number },
  position: number,
): HistoryRow | undefined {
  const id = historyId(flow.num, position);
  return id === undefined ? q.spilledAt.get({ flowId: flow.id, position }) : q.historyById.get({ id });
}
