/**
 * A batch of writes (`applyWrites`) or creates (`createFlows`) in one IMMEDIATE transaction, each in
 * a savepoint of its own: a write that fails (a stale token) writes nothing,
 * emits nothing and fails alone. A driver failure (a locked file, a full disk)
 * fails the whole batch, which the runner retries or reports as it does any write.
 *
 * @module
 */
import {
  type BatchOutcome,
  type BatchWrite,
  type CreateOutcome,
  isErgonError,
  type NewFlow,
} from '@ergon/core';
import type { EventOutbox } from './feed.js';
import { recordFast, recordOperation } from './history.js';
import { createFlow, finishFlow, suspend } from './lifecycle.js';
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
  return eachApart(outbox, savepoint, writes, (write) => applyOne(ctx, write));
}

/** Creates `flows` in order (`createFlows`); runs inside the runner's write transaction. */
export function createBatch(
  ctx: TxContext,
  outbox: EventOutbox,
  savepoint: Savepoint,
  flows: readonly NewFlow[],
): CreateOutcome[] {
  return eachApart(outbox, savepoint, flows, (flow) => createFlow(ctx, flow));
}

/**
 * Applies `fn` to each item in a savepoint of its own: one that throws an Ergon error fails alone.
 * Any other error is thrown (the caller's transaction rolls back).
 */
export function eachApart<T, V>(
  outbox: EventOutbox,
  savepoint: Savepoint,
  items: readonly T[],
  fn: (item: T) => V,
): ({ ok: true; value: V } | { ok: false; error: unknown })[] {
  return items.map((item) => {
    const mark = outbox.mark();
    try {
      return { ok: true, value: savepoint(() => fn(item)) };
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
