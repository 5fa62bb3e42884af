/**
 * One transaction's lifecycle under way (see `consume.ts`).
 *
 * The usual lifecycle, a consumer whose process stage succeeds at its first
 * attempt and is then acked, runs on callbacks rather than on a chain of
 * promises: it waits on the work's own promise, with one reaction, and on
 * its ack's, shared with the other acks of the batch (see `AckGroups`). A
 * chain of seven promises per transaction, with their closures and
 * reaction records, was most of the runner's cost. Anything else (a
 * failure, retries, timeouts of attempts, spans, hybrids, success handlers)
 * goes on through {@link runStage} and {@link rest}, as before.
 *
 * @module
 */
import type { Transaction } from '@ergon/core';
import { TaskTimeoutError } from '../errors.js';
import type { AckWaiter } from '../internal/ack-groups.js';
import { invoke } from '../internal/invoke.js';
import type { CancelScope, ScopeWatcher } from '../internal/scope.js';
import { NO_SETTLEMENT, type SettleResult, settle } from '../internal/settle.js';
import {
  Attempt,
  isPromiseLike,
  retryAfter,
  runStage,
  type StageOptions,
  type StageResult,
} from '../internal/stage.js';
import { recordOutcome } from '../internal/telemetry.js';
import type { ConsumerPolicy } from '../policies/consumer-policy.js';
import type { ExceptionDecision, Stage } from '../task/context.js';
import type { TransactionOutcome } from '../task/outcome.js';
import { ackSuccess, sourceOf } from './ack-success.js';
import { rest } from './after-process.js';
import type { ConsumeEnv, LifecycleSink } from './consume.js';
import { outcomeOf } from './outcome-of.js';

/**
 * The stages and attempts of most outcomes (process, on its first attempt):
 * shared and frozen, not two new objects per transaction. A lifecycle that
 * runs more copies them.
 */
export const ONLY_PROCESS: readonly Stage[] = Object.freeze(['process'] as Stage[]);
export const PROCESS_ONCE: Readonly<Partial<Record<Stage, number>>> = Object.freeze({ process: 1 });

/** What {@link TransactionRun} settles with when the task does not ack itself (`autoAck: false`). */
const UNSETTLED: SettleResult = NO_SETTLEMENT;

/**
 * One transaction's lifecycle under way: what its stages and its outcome
 * need, in one object (not a closure each). It is also what the first
 * process attempt's scope tells when it ends, and what its ack tells.
 */
export class TransactionRun implements ScopeWatcher, AckWaiter {
  readonly env: ConsumeEnv;
  readonly tx: Transaction;
  readonly sink: LifecycleSink;
  readonly started: number;
  /** The stages run, in order (they go into the outcome); shared while only process ran. */
  stages: readonly Stage[] = ONLY_PROCESS;
  /** Attempts per stage run (they go into the outcome); shared while process ran once only. */
  attempts: Readonly<Partial<Record<Stage, number>>> = PROCESS_ONCE;
  /** Ends with the transaction timeout or the hard stop; process, dispatch and success run under it. */
  readonly work: CancelScope;
  readonly #traced: boolean;
  /** The process stage's value, while its ack is under way. */
  #value: unknown;
  /** The first attempt's scope ended before its work answered: the work is abandoned. */
  #abandoned = false;
  /** The sink was told. */
  #over = false;

  /** `started`: when the lifecycle began (`performance.now()`), if before now (it ran in the fast lane). */
  constructor(env: ConsumeEnv, tx: Transaction, sink: LifecycleSink, traced: boolean, started?: number) {
    this.started = started ?? performance.now();
    this.env = env;
    this.tx = tx;
    this.sink = sink;
    this.#traced = traced;
    const timeout = env.task.policy.transactionTimeout;
    this.work =
      timeout === undefined
        ? env.hardStop.child()
        : env.hardStop.child(timeout, () => new TaskTimeoutError('transaction', timeout));
  }

  /** Runs the process stage, then the rest; tells the sink how it ended. */
  start(): void {
    try {
      // An attempt timeout needs a scope of its own, and spans the stage's own path: the general one.
      if (this.#traced || this.env.task.policy.retry.process.timeout !== undefined || this.work.aborted) {
        this.#afterProcess(
          this.stage('process', this.work, (s) =>
            invoke(this.env, this.env.task.processTransaction, this.tx, 'process', s),
          ),
        );
      } else this.#firstAttempt();
    } catch (error) {
      this.#broke(error);
    }
  }

  /**
   * The first process attempt on callbacks: the work's promise is watched
   * with one reaction, and the scope tells this run if it ends first (no
   * race promise).
   */
  #firstAttempt(): void {
    const { env, tx } = this;
    let result: unknown;
    try {
      result = invoke(env, env.task.processTransaction, tx, 'process', new Attempt(this.work, 1));
    } catch (error) {
      this.#firstFailed(error);
      return;
    }
    if (!isPromiseLike(result)) {
      this.#succeeded(result);
      return;
    }
    const work = result instanceof Promise ? result : Promise.resolve(result);
    if (!this.work.watch(this)) {
      // The scope ended while the work was being called: abandoned at once, its late failure swallowed.
      this.#abandoned = true;
      work.catch(() => undefined);
      this.#firstFailed(this.work.reason);
      return;
    }
    work.then(
      (value: unknown) => this.#answered(true, value),
      (error: unknown) => this.#answered(false, error),
    );
  }

  #answered(ok: boolean, outcome: unknown): void {
    // The scope ended first and its path took over; a late failure is swallowed here.
    if (this.#abandoned) return;
    this.work.unwatch(this);
    try {
      if (ok) this.#succeeded(outcome);
      else this.#firstFailed(outcome);
    } catch (error) {
      this.#broke(error);
    }
  }

  /** {@link ScopeWatcher}: the first attempt's scope ended (transaction timeout, hard stop) before its work answered. */
  scopeEnded(reason: Error): void {
    this.#abandoned = true;
    // Called from inside the scope's abort: go on once it is over, as a race's rejection would.
    queueMicrotask(() => {
      try {
        this.#firstFailed(reason);
      } catch (error) {
        this.#broke(error);
      }
    });
  }

  /**
   * Goes on from a first process attempt that failed with `thrown`, or was
   * abandoned at the hard stop, elsewhere (in the fast lane): as from one of
   * its own.
   */
  firstFailed(thrown: unknown): void {
    try {
      this.#firstFailed(thrown);
    } catch (error) {
      this.#broke(error);
    }
  }

  /** The first attempt failed: the stage goes on under its retry policy, as a failed attempt of {@link runStage} does. */
  #firstFailed(thrown: unknown): void {
    const options = this.#stageOptions('process', this.work, (s) =>
      invoke(this.env, this.env.task.processTransaction, this.tx, 'process', s),
    );
    this.#afterProcess(retryAfter(options, 1, thrown));
  }

  #afterProcess(stage: Promise<StageResult<unknown>>): void {
    stage.then(
      (result) => {
        try {
          this.noted('process', result);
          if (result.ok) this.#succeeded(result.value);
          else this.#deliver(rest(this, result));
        } catch (error) {
          this.#broke(error);
        }
      },
      (error: unknown) => this.#broke(error),
    );
  }

  /** After a successful process stage: the usual end (a consumer's success, acked), or the rest in {@link rest}. */
  #succeeded(value: unknown): void {
    const { task } = this.env;
    if (task.kind === 'hybrid' || task.handleSuccess) {
      this.#deliver(rest(this, { ok: true, value, attempts: this.attempts.process ?? 1 }));
      return;
    }
    this.#value = value;
    const settled = ackSuccess(this.env, this.tx, this);
    if (settled !== undefined) this.acked(settled);
  }

  /** {@link AckWaiter}: the ack is done (or failed: the transport redelivers). */
  acked(settled: SettleResult): void {
    const value = this.#value;
    this.#value = undefined;
    try {
      this.#end(this.#outcome('succeeded', settled, true, value));
    } catch (error) {
      this.#broke(error);
    }
  }

  /** Runs one stage under its retry policy, noted in the outcome's stages (its attempts: {@link noted}). */
  stage<T>(stage: Stage, scope: CancelScope, attempt: StageOptions<T>['attempt']): Promise<StageResult<T>> {
    // Process comes first, and the shared list names it: a copy is made only for a second stage.
    if (stage !== 'process') this.stages = [...this.stages, stage];
    return runStage<T>(this.#stageOptions(stage, scope, attempt));
  }

  #stageOptions<T>(stage: Stage, scope: CancelScope, attempt: StageOptions<T>['attempt']): StageOptions<T> {
    const policy = this.env.task.policy.retry[stage as keyof ConsumerPolicy['retry']];
    // The transaction's own scope is raced on by one stage at a time; the hard stop is everyone's.
    return { stage, policy, scope, attempt, exclusive: scope === this.work };
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
    return settle(this.env.source ?? sourceOf(task), this.tx, action, reason);
  }

  /** The outcome of the lifecycle, which ends now; counted in the metrics. */
  end(
    status: TransactionOutcome['status'],
    settled: SettleResult,
    result: StageResult<unknown>,
    failedStage?: Stage,
  ): TransactionOutcome {
    return result.ok
      ? this.#outcome(status, settled, true, result.value)
      : this.#outcome(status, settled, false, result.error, failedStage);
  }

  /** {@link end} of a lifecycle that succeeded with `value`, or failed with `error` in `failedStage`. */
  #outcome(
    status: TransactionOutcome['status'],
    settled: SettleResult,
    ok: boolean,
    valueOrError: unknown,
    failedStage?: Stage,
  ): TransactionOutcome {
    this.work.dispose();
    const durationMs = performance.now() - this.started;
    recordOutcome(this.env.task.name, status, durationMs);
    return outcomeOf(this, status, settled, durationMs, ok, valueOrError, failedStage);
  }

  #deliver(outcome: Promise<TransactionOutcome>): void {
    outcome.then(
      (done) => this.#end(done),
      (error: unknown) => this.#broke(error),
    );
  }

  #end(outcome: TransactionOutcome): void {
    if (this.#over) return;
    this.#over = true;
    this.sink.ended(outcome);
  }

  #broke(error: unknown): void {
    if (this.#over) return;
    this.#over = true;
    this.work.dispose();
    this.sink.broke(this.tx, error);
  }
}
