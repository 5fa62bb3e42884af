/**
 * Batches of writes ({@link ExecutionLog.applyWrites}): what a batch holds and
 * reports, and helpers for stores implementing it: one write dispatched to its
 * single call, and a batch applied write by write with each outcome kept apart.
 *
 * @module
 */
import type { ExecutionLog } from './execution-log.js';
import type {
  FinishRequest,
  FinishResult,
  RecordRequest,
  RecordResult,
  SuspendRequest,
  SuspendResult,
} from './run-writes.js';

/**
 * One write of a batch ({@link ExecutionLog.applyWrites}): the request of a
 * `recordOperation`, `suspend` or `finishFlow` call.
 */
export type BatchWrite =
  | {
      /** A {@link ExecutionLog.recordOperation} call. */
      readonly op: 'record';
      /** Its request. */
      readonly request: RecordRequest;
    }
  | {
      /** A {@link ExecutionLog.suspend} call. */
      readonly op: 'suspend';
      /** Its request. */
      readonly request: SuspendRequest;
    }
  | {
      /** A {@link ExecutionLog.finishFlow} call. */
      readonly op: 'finish';
      /** Its request. */
      readonly request: FinishRequest;
    };

/** What one write of a batch did: the value its single call returns, or the error it throws. */
export type BatchOutcome =
  | {
      /** The write succeeded. */
      readonly ok: true;
      /** What its single call returns (for a finish, its {@link FinishResult} or `undefined`). */
      readonly value: RecordResult | SuspendResult | FinishResult | undefined;
    }
  | {
      /** The write failed; the other writes of the batch are unaffected. */
      readonly ok: false;
      /** What its single call throws (`LeaseLostError`, …). */
      readonly error: unknown;
    };

/** The most writes one {@link ExecutionLog.applyWrites} call gets. */
export const MAX_BATCH_WRITES = 256;

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
      return store.finishFlow(write.request);
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
