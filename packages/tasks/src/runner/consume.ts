/**
 * The lifecycle of one consumed transaction (consumer and hybrid tasks):
 * process (→ dispatch for hybrids) → success handler, or exception handler;
 * then ack, or nack / dead-letter. Each stage runs under its own retry policy
 * and attempt timeout; the transaction timeout bounds process, dispatch and
 * success together; the shutdown deadline aborts everything and requeues.
 * The lifecycle itself is {@link TransactionRun}; this is how it is started.
 *
 * @module
 */
import type { Connector, Transaction } from '@ergon/core';
import type { AckGroups } from '../internal/ack-groups.js';
import type { InvokeEnv } from '../internal/invoke.js';
import type { CancelScope } from '../internal/scope.js';
import { inSpan, tracing, transactionParent } from '../internal/telemetry.js';
import type { ConsumerTask } from '../task/consumer.js';
import type { HybridTask } from '../task/hybrid.js';
import type { TransactionOutcome } from '../task/outcome.js';
import { TransactionRun } from './transaction-run.js';

/** What the lifecycle needs from its runner. */
export interface ConsumeEnv extends InvokeEnv {
  /** The consumer or hybrid being run. */
  readonly task: ConsumerTask | HybridTask;
  /** Ends at the shutdown deadline: running work is abandoned and requeued. */
  readonly hardStop: CancelScope;
  /**
   * The task's source connector, looked up once for the run (a lookup by
   * name per transaction was a megamorphic load); without it each lifecycle
   * looks it up.
   */
  readonly source?: Connector<unknown, unknown>;
  /**
   * Where acks that share a promise (a connector's batch of acks) are waited
   * on together: the run's. Without it each lifecycle waits on its own.
   */
  readonly acks?: AckGroups;
}

/** Who hears how a lifecycle ended: one of the two, once. */
export interface LifecycleSink {
  /** The lifecycle ended with `outcome`. */
  ended(outcome: TransactionOutcome): void;
  /** A bug broke the lifecycle of `transaction` (it reports failures as outcomes): the caller requeues it. */
  broke(transaction: Transaction, error: unknown): void;
}

/** Runs the whole lifecycle of `transaction`. Never throws: the outcome says what happened. */
export function consumeTransaction(env: ConsumeEnv, transaction: Transaction): Promise<TransactionOutcome> {
  return new Promise((resolve, reject) =>
    startTransaction(env, transaction, { ended: resolve, broke: (_, error) => reject(error) }),
  );
}

/**
 * Starts the lifecycle of `transaction`; `sink` hears how it ended. Runs in
 * a span `ergon.transaction` when a tracer provider is registered or the
 * transaction carries a trace to continue.
 */
export function startTransaction(env: ConsumeEnv, transaction: Transaction, sink: LifecycleSink): void {
  const parent = transactionParent(transaction.metadata);
  const traced = tracing();
  // No tracer provider and no trace to continue: the span would record nothing, so no closure and attributes for it.
  if (parent === undefined && !traced) {
    new TransactionRun(env, transaction, sink, false).start();
    return;
  }
  const attributes = { 'ergon.task.name': env.task.name, 'ergon.transaction.id': transaction.id };
  inSpan(
    'ergon.transaction',
    attributes,
    () =>
      new Promise<TransactionOutcome>((ended, broke) =>
        new TransactionRun(env, transaction, { ended, broke: (_, error) => broke(error) }, traced).start(),
      ),
    parent,
  ).then(
    (outcome) => sink.ended(outcome),
    (error: unknown) => sink.broke(transaction, error),
  );
}
