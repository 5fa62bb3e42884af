/**
 * The consumer loop (consumer and hybrid tasks): fetch under the fetch retry
 * policy, back off while the queue is empty, run each transaction's lifecycle
 * within the concurrency bound, honour `limit`, `mode` and `streaming`, and
 * drain on stop.
 *
 * @module
 */
import { type Transaction, toError } from '@ergon/core';
import { context } from '@opentelemetry/api';
import { sleep } from '../internal/abort.js';
import { AckGroups } from '../internal/ack-groups.js';
import { Semaphore } from '../internal/semaphore.js';
import { settle } from '../internal/settle.js';
import { runStage } from '../internal/stage.js';
import { inSpan, tracing } from '../internal/telemetry.js';
import type { TransactionOutcome } from '../task/outcome.js';
import { sourceOf } from './ack-success.js';
import { type ConsumeEnv, type LifecycleSink, startTransaction } from './consume.js';
import type { RunControl } from './control.js';
import { FastLane } from './fast-lane.js';
import { InFlight, type LoopResult, Tally } from './tally.js';

/** What the loop needs. */
export interface ConsumerLoopEnv extends ConsumeEnv {
  /** Stop signals of the run. */
  readonly control: RunControl;
  /** Receives every transaction's outcome. */
  readonly onOutcome: ((outcome: TransactionOutcome) => void) | undefined;
}

/** Runs until drained (batch mode), the limit, a stop, or a fetch failure. */
export async function runConsumerLoop(env: ConsumerLoopEnv): Promise<LoopResult> {
  const { task, control } = env;
  const { policy } = task;
  const connector = sourceOf(task);
  const semaphore = new Semaphore(policy.concurrency);
  const tally = new Tally(env.onOutcome);
  const inFlight = new InFlight();
  // One place per run where the acks of a connector's batch (one promise) are waited on together.
  // Named fields, not a spread of env: V8 gives a spread's result a map of its own, which it drops
  // with the run's objects, so every run's lifecycles met a new map and left their optimised code.
  const consumeEnv: ConsumeEnv = {
    task,
    hardStop: env.hardStop,
    context: env.context,
    threads: env.threads,
    source: connector,
    acks: new AckGroups(),
  };
  let fetched = 0;
  let empty = 0;

  // One permit and one in-flight count per lifecycle, given back when it ends: no release function,
  // promise or closure per transaction (they were most of the loop's memory per transaction).
  const done = (): void => {
    semaphore.release();
    inFlight.leave();
  };
  const finished = (outcome: TransactionOutcome): void => {
    try {
      tally.add(outcome);
    } finally {
      done();
    }
  };
  /** The lifecycle reports failures as outcomes: this is a bug guard, so nothing is lost. */
  const broken = async (tx: Transaction, error: unknown): Promise<void> => {
    try {
      env.context.logger.error(`task ${task.name}: lifecycle of ${tx.id} broke`, { error: String(error) });
      tally.add(await requeue(connector, tx, toError(error)));
    } finally {
      done();
    }
  };
  const sink: LifecycleSink = { ended: finished, broke: (tx, error) => void broken(tx, error) };
  // The usual lifecycle of a plain consumer, batch by batch (see fast-lane.ts); undefined for other tasks.
  const lane = FastLane.for(consumeEnv, sink);
  /** `fast`: the lane may take it (no tracer provider); `started`: the batch's start. */
  const lifecycle = (tx: Transaction, fast: boolean, started: number): void => {
    // Fetched but not started when the stop came: give it back untouched. (The scope ends with
    // `stopping`, and reads as a plain field: an AbortSignal's `aborted` getter checks its receiver.)
    if (control.stoppingScope.aborted) {
      requeue(connector, tx).then(finished, (error: unknown) => broken(tx, error));
      return;
    }
    try {
      if (!fast || !lane?.start(tx, started)) startTransaction(consumeEnv, tx, sink);
    } catch (error) {
      void broken(tx, error);
    }
  };
  const start = (tx: Transaction, fast: boolean, started: number): void => {
    inFlight.enter();
    // A streaming fetch asks for no more than the free permits, so a permit is usually free now.
    if (semaphore.tryTake()) lifecycle(tx, fast, started);
    else void semaphore.take().then(() => lifecycle(tx, false, 0));
  };

  /** Fetches; a result that arrives after the stage gave up (stop, timeout) is requeued, not lost. */
  const fetch = async (limit: number, signal: AbortSignal): Promise<Transaction[]> => {
    const batch = (await connector.fetchTransactions?.({ limit, signal })) ?? [];
    if (!signal.aborted) return batch;
    for (const late of batch) await settle(connector, late, 'requeue');
    return [];
  };

  try {
    while (!control.stopping.aborted) {
      const remaining = policy.limit === undefined ? Number.POSITIVE_INFINITY : policy.limit - fetched;
      if (remaining <= 0) return await tally.end('limit', inFlight);
      if (policy.streaming && semaphore.available === 0) {
        // On the stopping scope, between fetches (one race at a time on it): an abort listener
        // added and removed on the stopping signal for every batch cost more than the wait.
        await control.stoppingScope.raceTo(semaphore.whenAvailable(), nothing, nothing);
        // Permits come back together (one reply settles a batch of acks) but are seen one by one:
        // a fetch at the first would ask for one transaction. Let the turn's releases land first,
        // unless a whole batch's are back already (a batch of acks that shares one promise releases
        // them all in one go): then a turn more is only an event-loop iteration lost per batch.
        if (semaphore.available < Math.min(policy.batchSize, remaining)) await nextTurn();
      }
      if (control.stopping.aborted) break;
      const want = Math.min(
        policy.batchSize,
        remaining,
        policy.streaming ? semaphore.available : policy.batchSize,
      );
      tally.fetches++;
      // The batch's context parents the transactions it fetched (task → batch → transaction).
      let batchContext = context.active();
      const result = await inSpan(
        'ergon.batch',
        { 'ergon.task.name': task.name, 'ergon.batch.limit': want },
        () => {
          batchContext = context.active();
          return runStage({
            stage: 'fetch',
            policy: policy.retry.fetch,
            scope: control.stoppingScope,
            // Fetches run one at a time, and nothing else races on the stopping scope meanwhile (the
            // wait for permits comes between them): an attempt without a timeout runs in it, and
            // every fetch gets its signal (not a new one each).
            exclusive: true,
            attempt: (s) => fetch(want, s.signal),
          });
        },
      );
      if (!result.ok) {
        if (result.stopped) break;
        return await tally.end('failed', inFlight, result.error);
      }
      // Copied only when the connector returned more than asked for (the extras are requeued).
      const fetchedNow = result.value;
      const batch = fetchedNow.length > want ? fetchedNow.slice(0, want) : fetchedNow;
      for (let i = want; i < fetchedNow.length; i++)
        await settle(connector, fetchedNow[i] as Transaction, 'requeue');
      if (batch.length === 0) {
        if (policy.mode === 'batch') return await tally.end('drained', inFlight);
        empty++;
        await sleep(policy.emptyQueueDelay(empty), control.stopping);
        continue;
      }
      empty = 0;
      fetched += batch.length;
      // One look for a tracer provider and one clock reading per batch (its lifecycles start together).
      const fast = lane !== undefined && !tracing();
      const started = fast ? performance.now() : 0;
      context.with(batchContext, () => {
        for (const tx of batch) start(tx, fast, started);
      });
      // Batch by batch: nothing else is in flight, so this batch is done when nothing is.
      if (!policy.streaming) await inFlight.drained();
    }
    return await tally.end(control.reason ?? 'stopped', inFlight);
  } finally {
    // Only once nothing is in flight (tally.end waited): work running at a hard stop is requeued.
    lane?.dispose();
  }
}

function nothing(): undefined {
  return undefined;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function requeue(
  connector: Parameters<typeof settle>[0],
  tx: Transaction,
  error?: Error,
): Promise<TransactionOutcome> {
  const settled = await settle(connector, tx, 'requeue', error);
  const status = error ? 'failed' : 'aborted';
  return {
    transactionId: tx.id,
    status,
    stages: [],
    attempts: {},
    ...settled,
    durationMs: 0,
    ...(error ? { error } : {}),
  };
}
