/**
 * History records: first write wins. The `(flow_id, position)` key makes
 * "recorded once" a constraint, and the upsert replaces a `waiting` record
 * only; a final one is kept and returned.
 *
 * A write is normally one statement ({@link recordOperation}'s fast path):
 * the fencing check is the `WHERE` of an `INSERT … SELECT … FOR SHARE` from the
 * flow row. When that statement writes nothing, a transaction works out why
 * (a stale lease, a pending cancel, a final record already there).
 *
 * @module
 */
import {
  type ConsumeSignalRequest,
  FlowNotFoundError,
  LeaseLostError,
  type LeaseRef,
  type OperationRecord,
  type RecordRequest,
  type RecordResult,
} from '@ergon/core';
import type { Context } from './context.js';
import { type Queryable, rows, type Tx } from './db.js';
import { toOperationRecord } from './rows.js';

/** The values of a record, named as the history statements expect them. */
function recordValues(record: OperationRecord, lease?: LeaseRef) {
  return {
    flowId: record.flowId,
    token: lease?.token,
    position: record.position,
    key: record.key,
    kind: record.kind,
    status: record.status,
    attempts: record.attempts,
    seq: record.seq,
    wakeAt: record.wakeAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    error: record.error,
    result: record.result,
  };
}

/** Writes `record` unless a final record holds its position. */
export async function recordOperation(ctx: Context, request: RecordRequest): Promise<RecordResult> {
  const { record } = request;
  const [written] = await rows(ctx.db.pool, ctx.q.recordFenced, recordValues(record, request));
  if (written) return { record, existed: false, cancelRequested: false };
  return ctx.db.transaction((tx) => recordWhy(ctx, tx, request));
}

/**
 * The path of a batched record the batch statement did not write: under the flow's lock, why
 * (or write it now). `repeated`: the batch runs again after its connection was lost, so a
 * record equal to this one already there is this write's own, made before the loss.
 */
export function recordSlow(ctx: Context, request: RecordRequest, repeated: boolean): Promise<RecordResult> {
  return ctx.db.transaction(async (tx) => {
    if (repeated) {
      const existing = await recordAt(ctx, tx, request.record.flowId, request.record.position);
      if (existing && sameRecord(existing, request.record))
        return { record: request.record, existed: false, cancelRequested: false };
    }
    return recordWhy(ctx, tx, request);
  });
}

/** True when two records of one position say the same. */
function sameRecord(a: OperationRecord, b: OperationRecord): boolean {
  return (
    a.key === b.key &&
    a.kind === b.kind &&
    a.status === b.status &&
    a.attempts === b.attempts &&
    a.result === b.result &&
    a.error === b.error
  );
}

/** The fenced write wrote nothing: under the flow's lock, find out why (or write it now). */
async function recordWhy(ctx: Context, tx: Tx, request: RecordRequest): Promise<RecordResult> {
  const { record } = request;
  const cancelRequested = await holder(ctx, tx, request);
  const [again] = await rows(tx, ctx.q.record, recordValues(record));
  if (again) return { record, existed: false, cancelRequested };
  const existing = await recordAt(ctx, tx, record.flowId, record.position);
  if (!existing) throw new FlowNotFoundError(record.flowId);
  return { record: existing, existed: true, cancelRequested };
}

/** Pops the oldest buffered signal `name` into the completed record at its position. */
export function consumeSignal(
  ctx: Context,
  request: ConsumeSignalRequest,
): Promise<RecordResult | undefined> {
  return ctx.db.transaction(async (tx) => {
    // Locked for update, not shared: consumers of one flow's signals take turns, so two never pop the same one.
    const cancelRequested = await holder(ctx, tx, request, true);
    const { record, name } = request;
    const existing = await recordAt(ctx, tx, record.flowId, record.position);
    if (existing && existing.status !== 'waiting')
      return { record: existing, existed: true, cancelRequested };
    const [signal] = await rows(tx, ctx.q.popSignal, { id: record.flowId, name });
    if (!signal) return undefined;
    const written: OperationRecord = Object.freeze({
      ...record,
      status: 'completed',
      result: signal.payload,
    });
    await rows(tx, ctx.q.record, recordValues(written));
    return { record: written, existed: false, cancelRequested };
  });
}

/** A flow's history in position order. @throws STORE_CORRUPT for a record the store did not write. */
export async function readHistory({ db, q }: Context, flowId: string): Promise<OperationRecord[]> {
  return (await rows(db.pool, q.history, { flowId })).map(toOperationRecord);
}

/** Locks the flow (shared, or `exclusive`) if `lease` holds it; returns whether cancellation was requested. */
async function holder({ q }: Context, tx: Queryable, lease: LeaseRef, exclusive = false): Promise<boolean> {
  const [flow] = exclusive
    ? await rows(tx, q.fence, { id: lease.flowId })
    : await rows(tx, q.holder, { flowId: lease.flowId });
  if (!flow) throw new FlowNotFoundError(lease.flowId);
  if (flow.fencing_token !== lease.token || flow.status !== 'running') {
    throw new LeaseLostError(lease.flowId, lease.token);
  }
  return flow.cancel_requested;
}

async function recordAt(
  { q }: Context,
  tx: Queryable,
  flowId: string,
  position: number,
): Promise<OperationRecord | undefined> {
  const [row] = await rows(tx, q.historyAt, { flowId, position });
  return row ? toOperationRecord(row) : undefined;
}
