/**
 * The outcome object of a consumed transaction's lifecycle.
 *
 * @module
 */
import type { Transaction } from '@ergon/core';
import type { SettleResult } from '../internal/settle.js';
import type { Stage } from '../task/context.js';
import type { TransactionOutcome } from '../task/outcome.js';

/** What an outcome takes from its lifecycle besides how it ended. */
export interface OutcomeSource {
  readonly tx: Transaction;
  readonly stages: readonly Stage[];
  readonly attempts: Readonly<Partial<Record<Stage, number>>>;
}

/**
 * The outcome of a lifecycle that succeeded with `valueOrError` (`ok`), or
 * failed with it in `failedStage`. Made on every transaction: positional
 * arguments rather than an options object, so nothing else is allocated.
 */
export function outcomeOf(
  run: OutcomeSource,
  status: TransactionOutcome['status'],
  settled: SettleResult,
  durationMs: number,
  ok: boolean,
  valueOrError: unknown,
  failedStage?: Stage,
): TransactionOutcome {
  // The usual outcome (a success, settled well) is one literal, its result in it: made at its
  // full size, with no property added after (that made a second allocation per transaction).
  if (ok && !settled.settleError) {
    return {
      transactionId: run.tx.id,
      status,
      stages: run.stages,
      attempts: run.attempts,
      settlement: settled.settlement,
      durationMs,
      result: valueOrError,
    };
  }
  // Built field by field (not spread): no generic copy per transaction.
  const outcome: { -readonly [K in keyof TransactionOutcome]: TransactionOutcome[K] } = {
    transactionId: run.tx.id,
    status,
    stages: run.stages,
    attempts: run.attempts,
    settlement: settled.settlement,
    durationMs,
  };
  if (settled.settleError) outcome.settleError = settled.settleError;
  if (ok) outcome.result = valueOrError;
  else {
    outcome.error = valueOrError as Error;
    if (failedStage) outcome.failedStage = failedStage;
  }
  return outcome;
}
