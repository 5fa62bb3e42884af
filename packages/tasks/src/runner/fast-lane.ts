/**
 * The usual lifecycle of a plain consumer, on reusable slots: process once,
 * succeed, ack. A fetched batch runs through {@link FastLane.start} in one
 * loop, and each transaction costs its attempt's context and, when the work
 * answers with a promise, one reaction to it: no {@link TransactionRun}, no
 * cancellation scope, no closures of its own. Acks that share a promise (a
 * connector's batch of acks) end together, with one clock reading.
 *
 * Anything else leaves the lane for {@link TransactionRun}: work that throws
 * or rejects (retries, the exception handler), a hard stop while work runs
 * (requeued as aborted), and tasks or transactions the lane does not take
 * (hybrids, success handlers, thread or durable work, timeouts, traced
 * transactions). The outcomes are the same as on the general path.
 *
 * @module
 */
import type { Transaction } from '@ergon/core';
import type { AckWaiter } from '../internal/ack-groups.js';
import { ignoresContext, stageContext } from '../internal/invoke.js';
import { CancelScope, type ScopeWatcher } from '../internal/scope.js';
import type { SettleResult } from '../internal/settle.js';
import { isPromiseLike } from '../internal/stage.js';
import { metering, recordOutcome } from '../internal/telemetry.js';
import type { Stage, StageContext } from '../task/context.js';
import { ackSuccess } from './ack-success.js';
import type { ConsumeEnv, LifecycleSink } from './consume.js';
import { outcomeOf } from './outcome-of.js';
import { ONLY_PROCESS, PROCESS_ONCE, TransactionRun } from './transaction-run.js';

type ProcessFn = (transaction: Transaction, ctx?: StageContext) => unknown;

/** A free slot's transaction: none (typed as one so that the field keeps one shape). */
const UNSET = undefined as unknown as Transaction;

/** The lifecycles of one consumer loop that take the usual path; see the module comment. */
export class FastLane implements ScopeWatcher {
  readonly #env: ConsumeEnv;
  readonly #sink: LifecycleSink;
  readonly #process: ProcessFn;
  /**
   * The work cannot read its context (see {@link ignoresContext}): it is
   * called without one, and without the attempt behind its signal. Each
   * context is an object with an accessor of its own (`signal`, so that a
   * spread copy has it), and defining it cost more than the rest of the
   * lane's work for a transaction.
   */
  readonly #bare: boolean;
  /** Ends with the hard stop: the work still running then is abandoned and requeued. */
  readonly #scope: CancelScope;
  /** Free slots: the first `#freeCount` (a stack that keeps its size: no push and pop per lifecycle). */
  readonly #free: Slot[] = [];
  #freeCount = 0;
  /** Every slot made (none is reused after the hard stop). */
  readonly #slots: Slot[] = [];
  /** The clock reading of the last group of acks, and whether metrics were recorded then (one look per group). */
  #meteredAt = Number.NaN;
  #metered = false;

  private constructor(env: ConsumeEnv, sink: LifecycleSink, process: ProcessFn) {
    this.#env = env;
    this.#sink = sink;
    this.#process = process;
    this.#bare = ignoresContext(process);
    this.#scope = env.hardStop.child();
    this.#scope.watch(this);
  }

  /**
   * A lane for the loop of `env.task`, or undefined when none of its
   * transactions can take it: a hybrid, a success handler, thread or durable
   * work, an attempt or transaction timeout. Dispose it when the loop is over.
   */
  static for(env: ConsumeEnv, sink: LifecycleSink): FastLane | undefined {
    const { task } = env;
    const process = task.processTransaction;
    if (task.kind !== 'consumer' || task.handleSuccess || typeof process !== 'function') return undefined;
    const { policy } = task;
    if (policy.retry.process.timeout !== undefined || policy.transactionTimeout !== undefined)
      return undefined;
    return new FastLane(env, sink, process as ProcessFn);
  }

  /**
   * Runs the lifecycle of `transaction`, started at `started`
   * (`performance.now()`), when it can take the lane; false when the caller
   * must run the general path (a transaction that continues a trace, a hard
   * stop under way). The caller checked that no tracer provider is set.
   */
  start(transaction: Transaction, started: number): boolean {
    if (this.#scope.aborted || transaction.metadata.traceparent !== undefined) return false;
    const slot = this.#freeCount > 0 ? (this.#free[--this.#freeCount] as Slot) : this.#slot();
    slot.tx = transaction;
    slot.started = started;
    let result: unknown;
    try {
      if (this.#bare) result = this.#process(transaction);
      else {
        const attempt = new FirstAttempt(this.#scope);
        slot.attempt = attempt;
        result = this.#process(transaction, stageContext(this.#env.context, 'process', attempt));
      }
    } catch (error) {
      this.#leave(slot, error);
      return true;
    }
    try {
      if (!isPromiseLike(result)) {
        this.#succeeded(slot, result);
        return true;
      }
      slot.waiting = true;
      // One reaction, to callbacks the slot made once: nothing else per transaction.
      (result instanceof Promise ? result : Promise.resolve(result)).then(slot.onValue, slot.onError);
    } catch (error) {
      // A bug guard (an answer whose `then` cannot be read, say), as the general path's: requeued.
      slot.waiting = false;
      this.#broke(slot, error);
    }
    return true;
  }

  /** The loop is over: the lane no longer ends with the hard stop. */
  dispose(): void {
    this.#scope.dispose();
  }

  /** {@link ScopeWatcher}: the hard stop. Work still running is abandoned: the general path requeues it. */
  scopeEnded(reason: Error): void {
    // Called from inside the scope's abort: go on once it is over.
    queueMicrotask(() => {
      for (const slot of this.#slots) {
        if (!slot.waiting) continue;
        // Its late answer is swallowed; the slot is never used again.
        slot.abandoned = true;
        slot.waiting = false;
        this.#leave(slot, reason);
      }
    });
  }

  /** The work of `slot` answered (the slot's callbacks). */
  answered(slot: Slot, ok: boolean, outcome: unknown): void {
    if (slot.abandoned) return;
    slot.waiting = false;
    try {
      if (ok) this.#succeeded(slot, outcome);
      else this.#leave(slot, outcome);
    } catch (error) {
      this.#broke(slot, error);
    }
  }

  /**
   * The ack of `slot` is done, at `at` (the slot's {@link AckWaiter} side).
   * The acks of one group end together, at one clock reading: the look for
   * a meter provider is made once for them.
   */
  acked(slot: Slot, settled: SettleResult, at: number): void {
    if (at !== this.#meteredAt) {
      this.#meteredAt = at;
      this.#metered = metering();
    }
    try {
      this.#end(slot, settled, at, this.#metered);
    } catch (error) {
      this.#broke(slot, error);
    }
  }

  /** Process succeeded: acked when the task acks (as {@link TransactionRun} does for a consumer). */
  #succeeded(slot: Slot, value: unknown): void {
    slot.attempt?.end();
    slot.value = value;
    const settled = ackSuccess(this.#env, slot.tx, slot);
    if (settled !== undefined) this.#end(slot, settled, undefined, true);
  }

  /** `metered`: false when no meter provider was registered at `at` (true: {@link recordOutcome} looks). */
  #end(slot: Slot, settled: SettleResult, at: number | undefined, metered: boolean): void {
    const durationMs = (at ?? performance.now()) - slot.started;
    if (metered) recordOutcome(this.#env.task.name, 'succeeded', durationMs);
    const outcome = outcomeOf(slot, 'succeeded', settled, durationMs, true, slot.value);
    this.#release(slot);
    this.#sink.ended(outcome);
  }

  /** The first attempt failed with `thrown` (or was abandoned): the general path goes on from there. */
  #leave(slot: Slot, thrown: unknown): void {
    slot.attempt?.end();
    const { tx, started } = slot;
    this.#release(slot);
    new TransactionRun(this.#env, tx, this.#sink, false, started).firstFailed(thrown);
  }

  #broke(slot: Slot, error: unknown): void {
    const { tx } = slot;
    this.#release(slot);
    this.#sink.broke(tx, error);
  }

  #release(slot: Slot): void {
    slot.tx = UNSET;
    slot.attempt = undefined;
    slot.value = undefined;
    if (!slot.abandoned) this.#free[this.#freeCount++] = slot;
  }

  #slot(): Slot {
    const slot = new Slot(this);
    this.#slots.push(slot);
    return slot;
  }
}

/**
 * One lifecycle under way in the lane, reused for the next one once it
 * ended. Its callbacks are made once, with the slot.
 */
class Slot implements AckWaiter {
  readonly stages: readonly Stage[] = ONLY_PROCESS;
  readonly attempts: Readonly<Partial<Record<Stage, number>>> = PROCESS_ONCE;
  /** Its transaction; undefined while free (a free slot keeps nothing alive). */
  tx: Transaction = UNSET;
  /** When its lifecycle began (`performance.now()`; a double from the start, as every value it takes). */
  started = Number.NaN;
  value: unknown;
  attempt: FirstAttempt | undefined;
  /** Its work has not answered yet. */
  waiting = false;
  /** The hard stop came first: its work's late answer is ignored, and the slot is not reused. */
  abandoned = false;
  readonly onValue: (value: unknown) => void;
  readonly onError: (error: unknown) => void;
  readonly #lane: FastLane;

  constructor(lane: FastLane) {
    this.#lane = lane;
    this.onValue = (value) => lane.answered(this, true, value);
    this.onError = (error) => lane.answered(this, false, error);
  }

  acked(settled: SettleResult, at: number): void {
    this.#lane.acked(this, settled, at);
  }
}

/**
 * The first process attempt of a lane's transaction, as the stage context
 * sees it: its signal is a scope of its own, made when read, that ends with
 * the hard stop while the attempt runs. Read after the attempt, it never fires
 * (as a finished lifecycle's scope).
 */
class FirstAttempt {
  readonly attempt = 1;
  #parent: CancelScope | undefined;
  #scope: CancelScope | undefined;

  constructor(parent: CancelScope) {
    this.#parent = parent;
  }

  get signal(): AbortSignal {
    this.#scope ??= this.#parent ? this.#parent.child() : new CancelScope();
    return this.#scope.signal;
  }

  /** The attempt is over: its scope no longer ends with the hard stop. */
  end(): void {
    this.#parent = undefined;
    this.#scope?.dispose();
  }
}
