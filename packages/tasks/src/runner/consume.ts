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
import { type InvokeEnv, invoke, stageContext } from '../internal/invoke.js';
import type { CancelScope } from '../internal/scope.js';
import { isDecision, type SettleResult, settle } from '../internal/settle.js';
import { runStage, type StageOptions, type StageResult } from '../internal/stage.js';
import { inSpan, recordOutcome, traceMetadata, tracing, transactionParent } from '../internal/telemetry.js';
import type { ConsumerPolicy } from '../policies/consumer-policy.js';
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
  const parent = transactionParent(transaction.metadata);
  // No tracer provider and no trace to continue: the span would record nothing, so no closure and attributes for it.
  if (parent === undefined && !tracing()) return lifecycle(env, transaction);
  const attributes = { 'ergon.task.name': env.task.name, 'ergon.transaction.id': transaction.id };
  return inSpan('ergon.transaction', attributes, () => lifecycle(env, transaction), parent);
}

/**
 * The stages and attempts of most outcomes (process, on its first attempt):
 * shared and frozen, not two new objects per transaction. A lifecycle that
 * runs more copies them.
 */
const ONLY_PROCESS: readonly Stage[] = Object.freeze(['process'] as Stage[]);
const PROCESS_ONCE: Readonly<Partial<Record<Stage, number>>> = Object.freeze({ process: 1 });

/**
 * One transaction's lifecycle under way: what its stages and its outcome
 * need, in one object (not a closure each).
 */
class Run {
  readonly env: ConsumeEnv;
  readonly tx: Transaction;
  readonly started = performance.now();
  /** The stages run, in order (they go into the outcome); shared while only process ran. */
  stages: readonly Stage[] = ONLY_PROCESS;
  /** Attempts per stage run (they go into the outcome); shared while process ran once only. */
  attempts: Readonly<Partial<Record<Stage, number>>> = PROCESS_ONCE;
  /** Ends with the transaction timeout or the hard stop; process, dispatch and success run under it. */
  readonly work: CancelScope;

  constructor(env: ConsumeEnv, tx: Transaction) {
    this.env = env;
    this.tx = tx;
    const timeout = env.task.policy.transactionTimeout;
    this.work =
      timeout === undefined
        ? env.hardStop.child()
        : env.hardStop.child(timeout, () => new TaskTimeoutError('transaction', timeout));
  }

  /** Runs one stage under its retry policy, noted in the outcome's stages (its attempts: {@link noted}). */
  stage<T>(stage: Stage, scope: CancelScope, attempt: StageOptions<T>['attempt']): Promise<StageResult<T>> {
    // Process comes first, and the shared list names it: a copy is made only for a second stage.
    if (stage !== 'process') this.stages = [...this.stages, stage];
    const policy = this.env.task.policy.retry[stage as keyof ConsumerPolicy['retry']];
    // The transaction's own scope is raced on by one stage at a time; the hard stop is everyone's.
    return runStage<T>({ stage, policy, scope, attempt, exclusive: scope === this.work });
  }

  /** Notes the attempts a stage took; returns its result. */
  noted<T>(stage: Stage, result: StageResult<T>): StageResult<T> {
    if (stage !== 'process' || result.attempts !== 1)
      this.attempts = { ...this.attempts, [stage]: result.attempts };
    return result;
  }

  /** Acks, nacks or dead-letters (when the task settles automatically). */
  settle(action: ExceptionDecision, reason?: unknown): Promise<SettleResult> | SettleResult {
    const { task } = this.env;
    if (!task.autoAck) return UNSETTLED;
    const connector = task.connectors[task.source] as NonNullable<(typeof task.connectors)[string]>;
    return settle(connector, this.tx, action, reason);
  }

  /** The outcome of the lifecycle, which ends now; counted in the metrics. */
  end(
    status: TransactionOutcome['status'],
    settled: SettleResult,
    result: StageResult<unknown>,
    failedStage?: Stage,
  ): TransactionOutcome {
    this.work.dispose();
    const durationMs = performance.now() - this.started;
    recordOutcome(this.env.task.name, status, durationMs);
    // Built field by field (not spread): one shape for every outcome, and no generic copy per transaction.
    const outcome: { -readonly [K in keyof TransactionOutcome]: TransactionOutcome[K] } = {
      transactionId: this.tx.id,
      status,
      stages: this.stages,
      attempts: this.attempts,
      settlement: settled.settlement,
      durationMs,
    };
    if (settled.settleError) outcome.settleError = settled.settleError;
    if (result.ok) outcome.result = result.value;
    else {
      outcome.error = result.error;
      if (failedStage) outcome.failedStage = failedStage;
    }
    return outcome;
  }
}

/**
 * The process stage, then the rest. Chained promises, not an async
 * function: every transaction runs this, and an async function's frame and
 * awaits cost more memory than the rest of the lifecycle.
 */
function lifecycle(env: ConsumeEnv, tx: Transaction): Promise<TransactionOutcome> {
  const run = new Run(env, tx);
  return run
    .stage('process', run.work, (s) => invoke(env, env.task.processTransaction, tx, 'process', s))
    .then((result) => processed(run, run.noted('process', result)));
}

/** After the process stage: the usual end (a consumer's success, acked) at once, anything else in {@link rest}. */
function processed(run: Run, result: StageResult<unknown>): Promise<TransactionOutcome> | TransactionOutcome {
  const { task } = run.env;
  if (!result.ok || task.kind === 'hybrid' || task.handleSuccess) return rest(run, result);
  const settled = run.settle('ack');
  if (!(settled instanceof Promise)) return run.end('succeeded', settled, result);
  return settled.then((done) => run.end('succeeded', done, result));
}

/** Dispatch (hybrids), the success handler, and a failure's exception handler and settlement. */
async function rest(run: Run, processed: StageResult<unknown>): Promise<TransactionOutcome> {
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

/** What {@link lifecycle} settles with when the task does not ack itself (`autoAck: false`). */
const UNSETTLED: SettleResult = Object.freeze({ settlement: 'none' });

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
