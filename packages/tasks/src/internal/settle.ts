/**
 * Acks and nacks: the end of every consumed transaction's lifecycle.
 *
 * @module
 */
import { type Connector, toError, type Transaction } from '@ergon/core';
import type { ExceptionDecision } from '../task/context.js';
import type { Settlement } from '../task/outcome.js';

/** The settlement done, and the error if the connector failed to do it. */
export interface SettleResult {
  readonly settlement: Settlement;
  readonly settleError?: Error;
}

/**
 * Acks (`'ack'`) or nacks (`'requeue'`, `'dead-letter'`) through the
 * connector. A connector without `ack`/`nack` leaves it unsettled (`none`).
 * A failure to settle is reported, not thrown: the transport redelivers.
 */
export async function settle(
  connector: Connector<unknown, unknown>,
  transaction: Transaction<unknown>,
  action: ExceptionDecision,
  reason?: unknown,
): Promise<SettleResult> {
  try {
    if (action === 'ack') {
      if (!connector.ack) return { settlement: 'none' };
      await connector.ack(transaction);
      return { settlement: 'ack' };
    }
    if (!connector.nack) return { settlement: 'none' };
    await connector.nack(transaction, { requeue: action === 'requeue', reason });
    return { settlement: action };
  } catch (error) {
    return { settlement: 'none', settleError: toError(error) };
  }
}

/** True for a value an exception handler may return. */
export function isDecision(value: unknown): value is ExceptionDecision {
  return value === 'ack' || value === 'requeue' || value === 'dead-letter';
}
