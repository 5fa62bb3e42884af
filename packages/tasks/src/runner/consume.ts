/**
 * The lifecycle of one consumed transaction (consumer and hybrid tasks):
 * process (→ dispatch for hybrids) → success handler, or exception handler;
 * then ack, or nack / dead-letter. Each stage runs under its own retry policy
 * and attempt timeout; the transaction timeout bounds process, dispatch and
 * success together; the shutdown deadline aborts everything and requeues.
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
import { TaskTimeoutError } from '../errors.js';
import { invoke, type InvokeEnv, stageContext } from '../internal/invoke.js';
import type { CancelScope } from '../internal/scope.js';
import { isDecision, type SettleResult, settle } from '../internal/settle.js';
import { type AttemptScope, runStage, type StageResult } from '../internal/stage.js';
import { inSpan, recordOutcome, traceMetadata, transactionParent } from '../internal/telemetry.js';
import type { ConsumerTask } from '../task/consumer.js';
import type { ExceptionDecision, Stage } from '../task/context.js';
import type { HybridTask, Produced } from '../task/hybrid.js';
import type { TransactionOutcome } from '../task/outcome.js';

/** What the lifecycle needs from its runner. */
export interface ConsumeEnv extends InvokeEnv {
  /** The consumer or hybrid being run. */
  readonly task: ConsumerTask | HybridTask;
  /** Ends at the shutdown deadline: running work is abandoned and requeued. */
  readonly hardStop: CancelScope;
}

/** Runs the whole lifecycle of `transaction`. Never throws: the outcome says what happened. */
export function consumeTransaction(env: ConsumeEnv, transaction: Transaction): Promise<TransactionOutcome> {
  const attributes = { 'ergon.task.name': env.task.name, 'ergon.transaction.id': transaction.id };
  return inSpan(
    'ergon.transaction',
    attributes,
    () => lifecycle(env, transaction),
    transactionParent(transaction.metadata),
  );
}

async function lifecycle(env: ConsumeEnv, tx: Transaction): Promise<TransactionOutcome> {
  const { task } = env;
  const { retry, transactionTimeout } = task.policy;
  const started = performance.now();
  const stages: Stage[] = [];
  const attempts: Partial<Record<Stage, number>> = {};
  const stage = async <T>(
    name: Stage,
    scope: CancelScope,
    attempt: (scope: AttemptScope) => Promise<T> | T,
  ) => {
    stages.push(name);
    const result = await runStage<T>({
      stage: name,
      policy: retry[name as keyof typeof retry],
      scope,
      attempt,
    });
    attempts[name] = result.attempts;
    return result;
  };
  const work = env.hardStop.child(
    transactionTimeout,
    () => new TaskTimeoutError('transaction', transactionTimeout ?? 0),
  );
  const end = (
    status: TransactionOutcome['status'],
    settled: SettleResult,
    extra: Partial<TransactionOutcome>,
  ): TransactionOutcome => {
    const durationMs = performance.now() - started;
    recordOutcome(task.name, status, durationMs);
    // Built field by field (not spread): one shape for every outcome, and no generic copy per transaction.
    const outcome: { -readonly [K in keyof TransactionOutcome]: TransactionOutcome[K] } = {
      transactionId: tx.id,
      status,
      stages,
      attempts,
      settlement: settled.settlement,
      durationMs,
    };
    if (settled.settleError) outcome.settleError = settled.settleError;
    if ('result' in extra) outcome.result = extra.result;
    if (extra.error) outcome.error = extra.error;
    if (extra.failedStage) outcome.failedStage = extra.failedStage;
    return outcome;
  };
  const connector = task.connectors[task.source] as NonNullable<(typeof task.connectors)[string]>;
  const finish = (action: ExceptionDecision, reason?: unknown): Promise<SettleResult> =>
    task.autoAck ? settle(connector, tx, action, reason) : Promise.resolve({ settlement: 'none' });
  try {
    let result: StageResult<unknown> = await stage('process', work, (s) =>
      invoke(env, task.processTransaction, tx, 'process', s),
    );
    let failedStage: Stage = 'process';
    if (result.ok && task.kind === 'hybrid') {
      const output = result.value as Produced<unknown>;
      const target = task.connectors[task.target] as NonNullable<(typeof task.connectors)[string]>;
      const dispatched = await stage('dispatch', work, async (s) => {
        const produced = toProduced(tx, output);
        await target.dispatchTransactions?.(produced, { signal: s.signal });
        return produced;
      });
      result = dispatched;
      failedStage = 'dispatch';
    }
    if (result.ok && task.handleSuccess) {
      const value = result.value;
      const handler = task.handleSuccess as (t: Transaction, v: unknown, c: unknown) => unknown;
      const success = await stage('success', work, (s) =>
        handler(tx, value, stageContext(env.context, 'success', s)),
      );
      if (!success.ok) {
        result = success;
        failedStage = 'success';
      }
    }
    if (result.ok) return end('succeeded', await finish('ack'), { result: result.value });
    const { error } = result;
    if (env.hardStop.aborted) return end('aborted', await finish('requeue', error), { error, failedStage });
    let decision: ExceptionDecision = task.policy.onFailure;
    if (task.handleException) {
      const handler = task.handleException;
      const handled = await stage('exception', env.hardStop, (s) =>
        handler(tx, error, stageContext(env.context, 'exception', s)),
      );
      if (handled.ok && isDecision(handled.value)) decision = handled.value;
      if (env.hardStop.aborted && !handled.ok) decision = 'requeue';
    }
    return end('failed', await finish(decision, error), { error, failedStage });
  } finally {
    work.dispose();
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
