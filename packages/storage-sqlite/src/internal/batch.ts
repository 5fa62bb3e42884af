/**
 * A batch of writes (`applyWrites`) in one IMMEDIATE transaction, each write in
 * a savepoint of its own: a write that fails (a stale token) writes nothing,
 * emits nothing and fails alone. A driver failure (a locked file, a full disk)
 * fails the whole batch, which the runner retries or reports as it does any write.
 *
 * @module
 */
import { type BatchOutcome, type BatchWrite, isErgonError } from '@ergon/core';
import type { EventOutbox } from './feed.js';
import { recordFast, recordOperation } from './history.js';
import { finishFlow, suspend } from './lifecycle.js';
import type { TxContext } from './queries.js';

/** Runs `fn` in a savepoint of the open transaction: rolled back to it when `fn` throws. */
export type Savepoint = <T>(fn: () => T) => T;

/** Applies `writes` in order; runs inside the runner's write transaction. */
export function applyBatch(
  ctx: TxContext,
  outbox: EventOutbox,
  savepoint: Savepoint,
  writes: readonly BatchWrite[],
): BatchOutcome[] {
  return writes.map((write): BatchOutcome => {
    const mark = outbox.mark();
    try {
      return { ok: true, value: savepoint(() => applyOne(ctx, write)) };
    } catch (error) {
      if (!isErgonError(error)) throw error;
      outbox.rollbackTo(mark);
      return { ok: false, error };
    }
  });
}

function applyOne(ctx: TxContext, write: BatchWrite): Extract<BatchOutcome, { ok: true }>['value'] {
  switch (write.op) {
    case 'record':
      return recordFast(ctx, write.request) ?? recordOperation(ctx, write.request);
    case 'suspend':
      return suspend(ctx, write.request);
    case 'finish':
      finishFlow(ctx, write.request);
      return undefined;
  }
}
