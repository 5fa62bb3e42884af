/**
 * A run's last write (its finish or its suspension) goes with the step records
 * its recorder deferred, in order, in one batch (`writeInOrder`): a one-step
 * flow's step and end then cost the store one write, and on a store that
 * answers batches out of order (PostgreSQL's pool) the end never lands before
 * the records it follows.
 *
 * @module
 */
import type {
  BatchOutcome,
  BatchWrite,
  FinishRequest,
  OperationRecord,
  RuntimeExecutionLog,
  SuspendRequest,
  SuspendResult,
} from '@ergon/core';
import type { Recorder } from './recorder.js';

/**
 * A deferred record was refused, so the run's last write was not made: the run stopped on the
 * record's failure (`cause`), as it would have had the record been written on its own.
 */
export class RecordRefusedError extends Error {
  constructor(override readonly cause: unknown) {
    super("a step record before the run's last write was refused", { cause });
    this.name = 'RecordRefusedError';
  }
}

/** Finishes the flow after the records `recorder` deferred. */
export function finishAfter(
  store: RuntimeExecutionLog,
  recorder: Recorder | undefined,
  request: FinishRequest,
): Promise<unknown> {
  return lastWrite(store, recorder, { op: 'finish', request });
}

/** Suspends the flow after the records `recorder` deferred. */
export function suspendAfter(
  store: RuntimeExecutionLog,
  recorder: Recorder | undefined,
  request: SuspendRequest,
): Promise<SuspendResult> {
  return lastWrite(store, recorder, { op: 'suspend', request }) as Promise<SuspendResult>;
}

/**
 * Writes `last` after the deferred records: those already sent are awaited, the others go in
 * one batch with it. Rejects with what `last` is refused with, or a {@link RecordRefusedError}
 * when a record before it was refused first. When `last` went through, the records' outcomes need
 * no look: with one token they stand or fall with it, and a record kept from before under this
 * token is this run's own. Not an async function: on the path of every flow, its common case
 * (nothing sent before) is one promise reaction rather than a frame of its own.
 */
function lastWrite(
  store: RuntimeExecutionLog,
  recorder: Recorder | undefined,
  last: BatchWrite,
): Promise<unknown> {
  const released = recorder?.release();
  if (released?.sent) return afterSent(store, released.sent, released.records, last);
  return writeLast(store, released?.records, last);
}

/** {@link lastWrite} once the records sent before it are stored. */
async function afterSent(
  store: RuntimeExecutionLog,
  sent: Promise<unknown>,
  records: readonly OperationRecord[],
  last: BatchWrite,
): Promise<unknown> {
  try {
    await sent;
  } catch (error) {
    throw new RecordRefusedError(error);
  }
  return writeLast(store, records, last);
}

function writeLast(
  store: RuntimeExecutionLog,
  records: readonly OperationRecord[] | undefined,
  last: BatchWrite,
): Promise<unknown> {
  if (!records || records.length === 0) {
    return last.op === 'finish'
      ? store.finishFlow(last.request)
      : store.suspend(last.request as SuspendRequest);
  }
  const { flowId, token } = last.request;
  const writes: BatchWrite[] = [];
  for (const record of records) writes.push({ op: 'record', request: { flowId, token, record } });
  writes.push(last);
  return store.writeInOrder(writes).then(lastOutcome);
}

/** The value of the last write of a group, or why it was refused (a record's refusal first). */
function lastOutcome(outcomes: readonly BatchOutcome[]): unknown {
  const final = outcomes[outcomes.length - 1];
  if (!final) throw new Error('writeInOrder answered no outcome');
  if (final.ok) return final.value;
  for (let i = 0; i < outcomes.length - 1; i++) {
    const outcome = outcomes[i];
    if (outcome && !outcome.ok) throw new RecordRefusedError(outcome.error);
  }
  throw final.error;
}
