/**
 * What follows a transaction's process stage when it is not simply acked:
 * dispatch (hybrids), the success handler, and a failure's exception
 * handler and settlement.
 *
 * @module
 */
import {
  createTransaction,
  InvalidArgumentError,
  isTransaction,
  isValidId,
  type Transaction,
  uuidv7,
} from '@ergon/core';
import { stageContext } from '../internal/invoke.js';
import { isDecision } from '../internal/settle.js';
import type { StageResult } from '../internal/stage.js';
import { traceMetadata } from '../internal/telemetry.js';
import type { ExceptionDecision, Stage } from '../task/context.js';
import type { Produced } from '../task/hybrid.js';
import type { TransactionOutcome } from '../task/outcome.js';
import type { TransactionRun } from './transaction-run.js';

/** Dispatch (hybrids), the success handler, and a failure's exception handler and settlement. */
export async function rest(
  run: TransactionRun,
  processed: StageResult<unknown>,
): Promise<TransactionOutcome> {
  const { env, tx } = run;
  const { task } = env;
  try {
    let result = processed;
    let failedStage: Stage = 'process';
    if (result.ok && task.kind === 'hybrid') {
      const output = result.value as Produced<unknown>;
      const target = task.connectors[task.target] as NonNullable<(typeof task.connectors)[string]>;
      result = run.noted(
        'dispatch',
        await run.stage('dispatch', run.work, async (s) => {
          const produced = toProduced(tx, output);
          await target.dispatchTransactions?.(produced, { signal: s.signal });
          return produced;
        }),
      );
      failedStage = 'dispatch';
    }
    if (result.ok && task.handleSuccess) {
      const value = result.value;
      const handler = task.handleSuccess as (t: Transaction, v: unknown, c: unknown) => unknown;
      const success = run.noted(
        'success',
        await run.stage('success', run.work, (s) =>
          handler(tx, value, stageContext(env.context, 'success', s)),
        ),
      );
      if (!success.ok) {
        result = success;
        failedStage = 'success';
      }
    }
    if (result.ok) return run.end('succeeded', await run.settle('ack'), result);
    const { error } = result;
    if (env.hardStop.aborted) {
      return run.end('aborted', await run.settle('requeue', error), result, failedStage);
    }
    let decision: ExceptionDecision = task.policy.onFailure;
    if (task.handleException) {
      const handler = task.handleException;
      const handled = run.noted(
        'exception',
        await run.stage('exception', env.hardStop, (s) =>
          handler(tx, error, stageContext(env.context, 'exception', s)),
        ),
      );
      if (handled.ok && isDecision(handled.value)) decision = handled.value;
      if (env.hardStop.aborted && !handled.ok) decision = 'requeue';
    }
    return run.end('failed', await run.settle(decision, error), result, failedStage);
  } finally {
    run.work.dispose();
  }
}

/** A hybrid's output as transactions; payloads get ids `<input id>/<index>`, stable across redeliveries. */
function toProduced(source: Transaction, produced: Produced<unknown>): Transaction[] {
  if (!Array.isArray(produced)) {
    throw new InvalidArgumentError(
      'hybrid task: processTransaction must return an array of payloads or transactions',
    );
  }
  const metadata = traceMetadata();
  return produced.map((item, index) => {
    if (isTransaction(item) && Object.isFrozen(item)) return item;
    const id = `${source.id}/${index}`;
    return createTransaction({ id: isValidId(id) ? id : uuidv7(), payload: item, metadata });
  });
}
