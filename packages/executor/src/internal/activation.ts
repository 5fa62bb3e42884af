/**
 * One activation: a run of a flow function from the top against its recorded
 * history. Recorded operations return their results without running; new ones
 * run live and are recorded. The activation ends when the function settles,
 * when it can only wait (every live operation settled, waits pending), or on a
 * fatal condition (non-determinism, a lost lease, an unreadable history).
 *
 * The machinery lives beside it by concept: the flow context (the operations
 * the flow calls), positions (how each operation resolves: replayed, live or
 * never, and the ordering rule that makes races deterministic), the history
 * cursor (keys, the determinism check), the replay order, the recorder, step
 * attempts, patch and version markers, and liveness (live work, waits,
 * suspension).
 *
 * @module
 */

import { LeaseLostError, type OperationRecord, toError, type Wait } from '@ergon/core';
import type { FlowContext } from '../context.js';
import type { NormalizedStepOptions, StepScope } from '../definitions.js';
import { FlowCancelledError } from '../errors.js';
import type { ActivationOptions, ActivationOutcome } from './activation-types.js';
import type { DagHost } from './dag-op.js';
import { FlowAbort } from './flow-abort.js';
import { ActivationContext } from './flow-context.js';
import type { Slot } from './history-cursor.js';
import { Liveness, type LivenessHooks } from './liveness.js';
import type { MarkerHost } from './patches.js';
import { Positions, type PositionsHost } from './positions.js';
import { type ProgressHost, ProgressWriter } from './progress-writer.js';
import { Recorder, type RecorderHost } from './recorder.js';
import { runWithScope } from './scope.js';
import { runAttempts } from './step-attempts.js';
import { takeVersionMarker } from './versions.js';
import type { WaitHost } from './waits.js';

/** Runs one activation of a flow. Create, then `await start()`. */
export class Activation
  implements DagHost, WaitHost, ProgressHost, MarkerHost, LivenessHooks, RecorderHost, PositionsHost
{
  readonly flowId: string;
  readonly flowType: string;
  readonly options: ActivationOptions;
  /** The flow's abort signal, made only if something reads it (`flow-abort.ts`). */
  readonly abort = new FlowAbort();
  readonly recorder: Recorder;
  readonly liveness: Liveness;
  readonly positions: Positions;
  /** The flow context handed to the flow function and, in scope, to class-form steps. */
  readonly context: FlowContext;
  /** Made at the first live `ctx.progress`: most flows never report any. */
  #progress: ProgressWriter | undefined;
  #done = false;
  #resolve!: (outcome: ActivationOutcome) => void;
  readonly outcome: Promise<ActivationOutcome>;

  constructor(options: ActivationOptions) {
    this.options = options;
    this.flowId = options.flow.id;
    this.flowType = options.flow.type;
    // Each takes the activation itself as its host: no hooks or option objects made per run.
    this.liveness = new Liveness(this);
    this.recorder = new Recorder(this);
    this.positions = new Positions(this);
    this.context = new ActivationContext(this);
    this.outcome = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Number of live operations still running (steps, writes). */
  get active(): number {
    return this.liveness.active;
  }

  /** True once the activation ended. */
  ended(): boolean {
    return this.#done;
  }

  /** Starts the flow function; returns the outcome. */
  start(): Promise<ActivationOutcome> {
    const { definition, flow, codec } = this.options;
    let input: unknown;
    try {
      const stored = codec.decode(flow.input, `input of flow ${flow.id}`);
      input = definition.reviveInput ? definition.reviveInput(stored) : stored;
    } catch (error) {
      this.#end({ kind: 'fatal', error: toError(error) });
      return this.outcome;
    }
    takeVersionMarker(this);
    void this.#run(input);
    return this.outcome;
  }

  /** Runs the flow function to its end. */
  async #run(input: unknown): Promise<void> {
    const { definition } = this.options;
    const ctx = this.context;
    // The flow code starts in a later microtask, never inside start().
    await null;
    try {
      // AsyncLocalStorage costs on every promise; only class-form flows need it.
      const value = await (definition.usesScope
        ? runWithScope({ ctx, inStep: false }, () => definition.run(ctx, input))
        : definition.run(ctx, input));
      this.#end({ kind: 'completed', value });
    } catch (error) {
      this.#end({ kind: 'failed', error });
    }
  }

  /** Stops the activation as cancelled: attempts see their signal abort. */
  cancel(reason = 'cancelled'): void {
    if (this.#done) return;
    this.abort.abort(new FlowCancelledError(this.flowId, reason));
    this.#end({ kind: 'cancelled' });
  }

  /** Stops the activation because the lease was lost or the store failed. */
  abandon(error: Error): void {
    if (this.#done) return;
    this.abort.abort(error);
    this.#end({ kind: 'abandoned', error });
  }

  /** Resolves once no step attempt (user code) is running. */
  attemptsSettled(): Promise<void> {
    return this.liveness.attemptsSettled();
  }

  /**
   * Resolves once every progress report is written (or failed); the run waits for it before it
   * ends. Undefined when none is pending (no promise to await on the path of every run).
   */
  progressDrained(): Promise<void> | undefined {
    return this.#progress?.drained();
  }

  /** The flow's stored progress as far as this activation knows: the next one starts from it. */
  get storedProgress(): string | undefined {
    return this.#progress ? this.#progress.stored : this.options.progress;
  }

  /** True while the code replays recorded history (see `HistoryCursor.replaying`). */
  get replaying(): boolean {
    return this.positions.replaying;
  }

  /** The activation's progress writer, made at its first live report. */
  progressWriter(): ProgressWriter {
    this.#progress ??= new ProgressWriter({
      store: this.options.store,
      lease: { flowId: this.flowId, token: this.options.token },
      clock: this.options.clock,
      stored: this.options.progress,
      onCancelRequested: () => this.cancel('cancellation requested'),
      onFailed: (error) => this.writeFailed(error),
    });
    return this.#progress;
  }

  /** The position after the last one the code called or passed over (see `HistoryCursor.next`). */
  get nextPosition(): number {
    return this.positions.next;
  }

  // ---- machinery --------------------------------------------------------

  /** Returns a recorded result, or throws its recorded error. */
  settle<T>(record: OperationRecord): Promise<T> {
    if (record.status === 'failed') {
      return Promise.reject(
        record.error ? this.decode(record.error, `error of ${record.key}`) : new Error('failed'),
      );
    }
    return Promise.resolve(
      record.result === undefined ? undefined : this.decode(record.result, `result of ${record.key}`),
    ) as Promise<T>;
  }

  /** Runs (or replays) the step at `slot`. */
  runStep<R>(
    slot: Slot,
    kind: 'step' | 'run',
    fn: (scope: StepScope) => Promise<R> | R,
    options: NormalizedStepOptions,
  ): Promise<R> {
    return this.positions.resolved<R>(slot) ?? runAttempts(this, slot, kind, fn, options);
  }

  /** Decodes a recorded value; an unreadable one fails the flow (fatal). */
  decode(text: string, what: string): unknown {
    try {
      return this.options.codec.decode(text, `${what} in flow ${this.flowId}`);
    } catch (error) {
      this.#end({ kind: 'fatal', error: toError(error) });
      throw error;
    }
  }

  /** Nothing live is left but replayed results wait for their turn: unstalls them (`Liveness`). */
  stalled(): boolean {
    return this.positions.unstall();
  }

  /** Nothing live is left and some operations wait: the activation ends blocked on `waits` (`Liveness`). */
  blocked(waits: readonly Wait[]): void {
    this.#end({ kind: 'blocked', waits });
  }

  /** Ends the activation on a fatal condition (non-determinism, `Positions`). */
  fatal(error: Error): void {
    this.#end({ kind: 'fatal', error });
  }

  /** Ends the activation after a failed store call (`Recorder`, `ProgressWriter`). */
  writeFailed(error: unknown): void {
    const failure = toError(error);
    this.options.logger.warn('store write failed; abandoning activation', {
      flowId: this.flowId,
      error: failure.message,
      lost: error instanceof LeaseLostError,
    });
    this.abandon(failure);
  }

  #end(outcome: ActivationOutcome): void {
    if (this.#done) return;
    this.#done = true;
    // Neither keeps the activation while it waits in the next turn's queue (`Recorder.detach`).
    this.recorder.detach();
    this.liveness.detach();
    // Cancelled and abandoned activations aborted already; a suspension's reason is made only if
    // something reads the signal (most never do).
    if (outcome.kind === 'blocked') this.abort.abortLazily(suspendedReason);
    else if (outcome.kind === 'fatal') this.abort.abortLazily(fatalReason);
    this.#resolve(outcome);
  }
}

/** Why a suspended activation's signal aborted. */
function suspendedReason(): Error {
  return new Error('flow suspended');
}

/** Why the signal of an activation that ended fatally aborted. */
function fatalReason(): Error {
  return new Error('fatal');
}
