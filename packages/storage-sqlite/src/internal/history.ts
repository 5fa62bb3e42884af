/**
 * History records: first write wins. The `(flow_id, position)` primary key
 * makes "recorded once" a constraint, and the upsert replaces a `waiting`
 * record only; a final one is kept and returned.
 *
 * @module
 */
import {
  FlowNotFoundError,
  InvalidArgumentError,
  type LeaseRef,
  type OperationRecord,
  type RecordResult,
} from '@ergon/core';
import { fenceHolder } from './leases.js';
import type { TxContext } from './queries.js';
import { toOperationRecord } from './rows.js';

/** Writes `record` unless a final record holds its position. */
export function recordOperation(ctx: TxContext, lease: LeaseRef, record: OperationRecord): RecordResult {
  const flow = fenceHolder(ctx, lease);
  checkRecord(lease, record);
  const cancelRequested = flow.cancel_requested !== 0;
  if (ctx.q.record.run(record) === 1) {
    return { record: Object.freeze({ ...record }), existed: false, cancelRequested };
  }
  const existing = ctx.q.historyAt.get({ flowId: record.flowId, position: record.position });
  if (!existing) throw new FlowNotFoundError(record.flowId);
  return { record: toOperationRecord(existing), existed: true, cancelRequested };
}

/** Pops the oldest buffered signal `name` into the completed record at its position. */
export function consumeSignal(
  ctx: TxContext,
  lease: LeaseRef,
  request: { name: string; record: Omit<OperationRecord, 'result' | 'status'> },
): RecordResult | undefined {
  const { q } = ctx;
  const flow = fenceHolder(ctx, lease);
  const { record, name } = request;
  checkRecord(lease, record);
  const cancelRequested = flow.cancel_requested !== 0;
  const existing = q.historyAt.get({ flowId: record.flowId, position: record.position });
  if (existing && existing.status !== 'waiting') {
    return { record: toOperationRecord(existing), existed: true, cancelRequested };
  }
  const signal = q.oldestSignal.get({ flowId: flow.id, name });
  if (!signal) return undefined;
  q.deleteSignal.run({ seq: signal.seq });
  const written: OperationRecord = Object.freeze({ ...record, status: 'completed', result: signal.payload });
  q.record.run(written);
  return { record: written, existed: false, cancelRequested };
}

function checkRecord(lease: LeaseRef, record: Omit<OperationRecord, 'result' | 'status'>): void {
  if (record.flowId !== lease.flowId) {
    throw new InvalidArgumentError(
      `a record of flow ${JSON.stringify(record.flowId)} cannot be written under the lease of ${JSON.stringify(lease.flowId)}`,
    );
  }
  if (!Number.isInteger(record.position) || record.position < 0) {
    throw new InvalidArgumentError(`record position must be a whole number ≥ 0 (got ${record.position})`);
  }
}
