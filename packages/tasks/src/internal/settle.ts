/**
 * Acks and nacks: the end of every consumed transaction's lifecycle.
 *
 * @module
 */
import { type Connector, type Transaction, toError } from '@ergon/core';
import type { ExceptionDecision } from '../task/context.js';
import type { Settlement } from '../task/outcome.js';

/** The settlement done, and the error if the connector failed to do it. */
export interface SettleResult {
  readonly settlement: Settlement;
  readonly settleError?: Error;
}

// Shared results: a settlement allocates nothing of its own when it goes well.
/** Not settled: the connector cannot ack or nack, or the task settles itself. */
export const NO_SETTLEMENT: SettleResult = Object.freeze({ settlement: 'none' });
/** Acked. */
export const ACKED: SettleResult = Object.freeze({ settlement: 'ack' });
const DONE: Readonly<Record<ExceptionDecision, SettleResult>> = Object.freeze({
  ack: ACKED,
  requeue: Object.freeze({ settlement: 'requeue' }),
  'dead-letter': Object.freeze({ settlement: 'dead-letter' }),
});
const NONE = NO_SETTLEMENT;
const acked = (): SettleResult => ACKED;

/** The result of a settlement the connector failed to do (reported, not thrown: the transport redelivers). */
export function settleFailure(error: unknown): SettleResult {
  return { settlement: 'none', settleError: toError(error) };
}
const failed = settleFailure;

/**
 * Acks (`'ack'`) or nacks (`'requeue'`, `'dead-letter'`) through the
 * connector. A connector without `ack`/`nack` leaves it unsettled (`none`).
 * A failure to settle is reported, not thrown: the transport redelivers.
 */
export function settle(
  connector: Connector<unknown, unknown>,
  transaction: Transaction<unknown>,
  action: ExceptionDecision,
  reason?: unknown,
): Promise<SettleResult> {
  try {
    if (action === 'ack') {
      if (!connector.ack) return Promise.resolve(NONE);
      // One promise per ack (not an async function's and its await's).
      return Promise.resolve(connector.ack(transaction)).then(acked, failed);
    }
    if (!connector.nack) return Promise.resolve(NONE);
    const done = DONE[action];
    return Promise.resolve(connector.nack(transaction, { requeue: action === 'requeue', reason })).then(
      () => done,
      failed,
    );
  } catch (error) {
    return Promise.resolve(failed(error));
  }
}

/** True for a value an exception handler may return. */
export function isDecision(value: unknown): value is ExceptionDecision {
  return value === 'ack' || value === 'requeue' || value === 'dead-letter';
}
