/**
 * Helpers for stores implementing {@link ExecutionLog.applyWrites}: one write
 * dispatched to its single call, and a batch applied write by write with each
 * outcome kept apart.
 *
 * @module
 */
import type { BatchOutcome, BatchWrite, ExecutionLog } from './execution-log.js';

/** The value of a batch write's single call. */
export type BatchValue = Extract<BatchOutcome, { ok: true }>['value'];

/** Calls the single method of `store` that `write` stands for. */
export function applyWrite(
  store: Pick<ExecutionLog, 'recordOperation' | 'suspend' | 'finishFlow'>,
  write: BatchWrite,
): Promise<BatchValue> {
  switch (write.op) {
    case 'record':
      return store.recordOperation(write.request);
    case 'suspend':
      return store.suspend(write.request);
    case 'finish':
      return store.finishFlow(write.request).then(() => undefined);
  }
}

/** Applies `writes` in order with `apply`, each failure kept to its own write. */
export async function applyEach(
  writes: readonly BatchWrite[],
  apply: (write: BatchWrite) => Promise<BatchValue>,
): Promise<BatchOutcome[]> {
  const outcomes: BatchOutcome[] = [];
  for (const write of writes) {
    try {
      outcomes.push({ ok: true, value: await apply(write) });
    } catch (error) {
      outcomes.push({ ok: false, error });
    }
  }
  return outcomes;
}
