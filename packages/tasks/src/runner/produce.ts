/**
 * The lifecycle of one producer batch: prepare every item (bounded by the
 * concurrency), dispatch the prepared transactions in one call, then run the
 * success handler per transaction, or the exception handler per failed item.
 *
 * @module
 */
import { createTransaction, isTransaction, type Transaction } from '@ergon/core';
import { TaskTimeoutError } from '../errors.js';
import { invoke, type InvokeEnv, stageContext } from '../internal/invoke.js';
import type { CancelScope } from '../internal/scope.js';
import { Semaphore } from '../internal/semaphore.js';
import { runStage } from '../internal/stage.js';
import { inSpan, recordOutcome, traceMetadata } from '../internal/telemetry.js';
import type { Stage } from '../task/context.js';
import type { TransactionOutcome } from '../task/outcome.js';
import type { ProducerTask } from '../task/producer.js';

/** What a batch needs from its runner. */
export interface ProduceEnv extends InvokeEnv {
  /** The producer being run. */
  readonly task: ProducerTask;
  /** Ends at the shutdown deadline: running work is abandoned. */
  readonly hardStop: CancelScope;
}

interface ItemState {
  readonly item: unknown;
  readonly started: number;
  readonly stages: Stage[];
  readonly attempts: Partial<Record<Stage, number>>;
  tx?: Transaction;
  error?: Error;
  failedStage?: Stage;
}

/** Runs one batch through its lifecycle. Never throws; one outcome per item, in order. */
export async function produceBatch(
  env: ProduceEnv,
  items: readonly unknown[],
): Promise<TransactionOutcome[]> {
  const { task, hardStop } = env;
  const { retry, transactionTimeout } = task.policy;
  const semaphore = new Semaphore(task.policy.concurrency);
  const states: ItemState[] = items.map((item) => ({
    item,
    started: performance.now(),
    stages: [],
    attempts: {},
  }));
  const stage = async <T>(
    state: ItemState,
    name: Stage & keyof typeof retry,
    scope: CancelScope,
    fn: Parameters<typeof runStage<T>>[0]['attempt'],
  ) => {
    state.stages.push(name);
    const result = await runStage<T>({ stage: name, policy: retry[name], scope, attempt: fn });
    state.attempts[name] = result.attempts;
    if (!result.ok) {
      state.error = result.error;
      state.failedStage = name;
    }
    return result;
  };
  await Promise.all(
    states.map(async (state) => {
      const release = await semaphore.acquire();
      const limit = hardStop.child(
        transactionTimeout,
        () => new TaskTimeoutError('prepare', transactionTimeout ?? 0),
      );
      try {
        await inSpan('ergon.transaction', { 'ergon.task.name': task.name }, async () => {
          // Making the transaction is part of the attempt: a payload the codec refuses fails this item only.
          const prepared = await stage(state, 'prepare', limit, async (s) =>
            toTransaction(await invoke(env, task.prepareTransaction, state.item, 'prepare', s)),
          );
          if (prepared.ok) state.tx = prepared.value;
        });
      } finally {
        limit.dispose();
        release();
      }
    }),
  );
  const ready = states.filter((s) => s.tx !== undefined);
  if (ready.length > 0) {
    const target = task.connectors[task.target] as NonNullable<(typeof task.connectors)[string]>;
    const txs = ready.map((s) => s.tx as Transaction);
    const first = ready[0] as ItemState;
    const dispatched = await stage(first, 'dispatch', hardStop, (s) =>
      target.dispatchTransactions?.(txs, { signal: s.signal }),
    );
    for (const state of ready.slice(1)) {
      state.stages.push('dispatch');
      state.attempts.dispatch = dispatched.attempts;
      if (!dispatched.ok) Object.assign(state, { error: dispatched.error, failedStage: 'dispatch' });
    }
  }
  return Promise.all(
    states.map(async (state) => {
      if (!state.error && task.handleSuccess) {
        const handler = task.handleSuccess;
        const tx = state.tx as Transaction;
        await stage(state, 'success', hardStop, (s) => handler(tx, stageContext(env.context, 'success', s)));
      }
      if (state.error && !hardStop.aborted && task.handleException) {
        const [handler, error] = [task.handleException, state.error];
        state.stages.push('exception');
        const handled = await runStage({
          stage: 'exception',
          policy: retry.exception,
          scope: hardStop,
          attempt: (s) => handler(state.item, error, stageContext(env.context, 'exception', s)),
        });
        state.attempts.exception = handled.attempts;
      }
      return outcomeOf(task.name, state, hardStop.aborted);
    }),
  );
}

function toTransaction(value: unknown): Transaction {
  if (isTransaction(value) && Object.isFrozen(value)) return value;
  return createTransaction({ payload: value, metadata: traceMetadata() });
}

function outcomeOf(task: string, state: ItemState, stopped: boolean): TransactionOutcome {
  const status = !state.error ? 'succeeded' : stopped ? 'aborted' : 'failed';
  const durationMs = performance.now() - state.started;
  recordOutcome(task, status, durationMs);
  return {
    transactionId: state.tx?.id,
    status,
    stages: state.stages,
    attempts: state.attempts,
    settlement: 'none',
    durationMs,
    ...(state.tx && !state.error ? { result: state.tx } : {}),
    ...(state.error ? { error: state.error, failedStage: state.failedStage } : {}),
  };
}
