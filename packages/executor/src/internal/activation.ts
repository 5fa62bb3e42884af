/**
 * One activation: a run of a flow function from the top against its recorded
 * history, and the `FlowContext` operations the flow calls. Recorded
 * operations return their results without running; new ones run live and are
 * recorded. The activation ends when the function settles, when it can only
 * wait (every live operation settled, waits pending), or on a fatal condition
 * (non-determinism, a lost lease, an unreadable history).
 *
 * The machinery lives beside it by concept: the history cursor (positions,
 * keys, the determinism check), the replay order, the recorder, step
 * attempts, and liveness (live work, waits, suspension).
 *
 * Ordering rule that makes races deterministic: recorded results resolve in
 * microtasks, while live evaluation of waits (sleep, signal, child) is deferred
 * to a macrotask. So on replay every recorded winner of a `Promise.race`
 * resolves before a loser could be evaluated live.
 *
 * @module
 */

import {
  type Duration,
  InvalidArgumentError,
  LeaseLostError,
  type OperationKind,
  type OperationRecord,
  toError,
  toMillis,
  uuidv7,
} from '@ergon/core';
import type { ChildOptions, FlowContext, WaitForSignalOptions } from '../context.js';
import type { AnyGraph, DagOptions, DagResultOf, GraphInputOf } from '../dag.js';
import {
  type FlowDefinition,
  type NormalizedStepOptions,
  normalizeStepOptions,
  type StepDefinition,
  type StepOptions,
  type StepScope,
  validateName,
} from '../definitions.js';
import { FlowCancelledError, NonDeterminismError } from '../errors.js';
import { HistoryCursor, type Slot } from './history-cursor.js';
import { captureLocation, encodeMarker, isDeprecatedMarker, patchName } from './patches.js';
import { isVersionMarker, recordedVersion, versionName } from './versions.js';
import { Liveness } from './liveness.js';
import { type ProgressHost, ProgressWriter, reportProgress } from './progress-writer.js';
import { never, Recorder } from './recorder.js';
import { ReplayOrder } from './replay-order.js';
import { runWithScope } from './scope.js';
import { runAttempts, type StepHost } from './step-attempts.js';
import type { ActivationOptions, ActivationOutcome } from './activation-types.js';
import { runDag } from './dag-op.js';
import { awaitChild, receiveSignal, sleepUntilDue, type WaitHost } from './waits.js';

/** `ctx.run` without options. */
const NO_STEP_OPTIONS = normalizeStepOptions();

/** Runs one activation of a flow. Create, then `await start()`. */
export class Activation implements FlowContext, StepHost, WaitHost, ProgressHost {
  readonly flowId: string;
  readonly flowType: string;
  readonly options: ActivationOptions;
  readonly abort = new AbortController();
  readonly recorder: Recorder;
  readonly liveness: Liveness;
  readonly #cursor: HistoryCursor;
  readonly #replay: ReplayOrder;
  /** Names of `ctx.run` already checked. */
  readonly #checkedNames = new Set<string>();
  /** What `ctx.patched` / `ctx.deprecatePatch` answered for each patch id in this activation. */
  readonly #patches = new Map<string, boolean>();
  /** Made at the first live `ctx.progress`: most flows never report any. */
  #progress: ProgressWriter | undefined;
  #done = false;
  #resolve!: (outcome: ActivationOutcome) => void;
  readonly outcome: Promise<ActivationOutcome>;

  constructor(options: ActivationOptions) {
    this.options = options;
    this.flowId = options.flow.id;
    this.flowType = options.flow.type;
    this.#cursor = new HistoryCursor(this.flowId, options.history, {
      // A version marker is passed over by code without a version (see `versions.ts`).
      deprecated: (record) => isVersionMarker(record) || isDeprecatedMarker(options.codec, record),
      skipped: (position) => this.#replay.skip(position),
    });
    this.liveness = new Liveness({
      ended: () => this.#done,
      stalled: () => {
        if (!this.#replay.waiting) return false;
        this.#replay.unstall();
        return true;
      },
      blocked: (waits) => this.#end({ kind: 'blocked', waits }),
    });
    this.#replay = new ReplayOrder(options.history, () => this.liveness.check());
    this.recorder = new Recorder({
      store: options.store,
      lease: { flowId: this.flowId, token: options.token },
      clock: options.clock,
      codec: options.codec,
      history: options.history,
      ended: () => this.#done,
      onCancelRequested: () => this.cancel('cancellation requested'),
      onFailed: (error) => this.#writeFailed(error),
    });
    this.outcome = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** The flow context handed to class-form steps. */
  get context(): FlowContext {
    return this;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
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
    this.#version();
    const run = () => definition.run(this, input);
    // AsyncLocalStorage costs on every promise; only class-form flows need it.
    Promise.resolve()
      .then(() => (definition.usesScope ? runWithScope({ ctx: this, inStep: false }, run) : run()))
      .then(
        (value) => this.#end({ kind: 'completed', value }),
        (error) => this.#end({ kind: 'failed', error }),
      );
    return this.outcome;
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
    return this.#cursor.replaying;
  }

  /** The activation's progress writer, made at its first live report. */
  progressWriter(): ProgressWriter {
    this.#progress ??= new ProgressWriter({
      store: this.options.store,
      lease: { flowId: this.flowId, token: this.options.token },
      clock: this.options.clock,
      stored: this.options.progress,
      onCancelRequested: () => this.cancel('cancellation requested'),
      onFailed: (error) => this.#writeFailed(error),
    });
    return this.#progress;
  }

  // ---- FlowContext ------------------------------------------------------

  step<A extends unknown[], R>(definition: StepDefinition<A, R>, ...args: A): Promise<R> {
    if (definition?.kind !== 'step') {
      return Promise.reject(
        new InvalidArgumentError('ctx.step needs a step definition made with step(name, fn)'),
      );
    }
    const slot = this.#slot('step', definition.name);
    return this.runStep(slot, 'step', (scope) => definition.fn(...args, scope), definition.options);
  }

  run<R>(name: string, fn: (scope: StepScope) => Promise<R> | R, options?: StepOptions): Promise<R> {
    if (!this.#checkedNames.has(name)) {
      validateName(name, 'run name');
      this.#checkedNames.add(name);
    }
    const normalized = options === undefined ? NO_STEP_OPTIONS : normalizeStepOptions(options);
    return this.runStep(this.#slot('run', name), 'run', fn, normalized);
  }

  /** A class-form step (`@Step()`): a durable step named `name`. */
  runNamedStep<R>(name: string, fn: () => Promise<R> | R, options: NormalizedStepOptions): Promise<R> {
    return this.runStep(this.#slot('step', name), 'step', fn, options);
  }

  sleep(duration: Duration): Promise<void> {
    const ms = toMillis(duration, 'sleep duration');
    return this.#sleep(this.#slot('sleep', 'sleep'), () => this.options.clock.now() + ms);
  }

  sleepUntil(time: Date | number): Promise<void> {
    const at = typeof time === 'number' ? time : time.getTime();
    if (!Number.isFinite(at))
      return Promise.reject(new InvalidArgumentError('sleepUntil needs a valid Date or epoch ms'));
    return this.#sleep(this.#slot('sleep', 'sleep'), () => at);
  }

  waitForSignal<T = unknown>(name: string, options: WaitForSignalOptions = {}): Promise<T> {
    validateName(name, 'signal name');
    const timeoutMs = options.timeout === undefined ? undefined : toMillis(options.timeout, 'signal timeout');
    const slot = this.#slot('signal', name);
    return this.#live(slot, () => receiveSignal<T>(this, slot, name, timeoutMs));
  }

  child<I, O>(definition: FlowDefinition<I, O>, input: I, options: ChildOptions = {}): Promise<O> {
    if (definition?.kind !== 'flow') {
      return Promise.reject(
        new InvalidArgumentError('ctx.child needs a flow definition made with flow(name, fn)'),
      );
    }
    const slot = this.#slot('child', definition.name);
    const id = options.flowId ?? `${this.flowId}/${slot.position}`;
    return this.#live(slot, () => awaitChild(this, slot, { id, definition, input }, options));
  }

  dag<G extends AnyGraph>(
    graph: G,
    input: GraphInputOf<G>,
    options: DagOptions = {},
  ): Promise<DagResultOf<G>> {
    const slot = this.#slot('dag', `dag:${graph.name}`);
    // Reserve one position per node in the graph's fixed topological order, so
    // positions never depend on which node happens to finish first.
    const nodeSlots = new Map<string, Slot>();
    for (const name of graph.order) nodeSlots.set(name, this.#slot('step', `${graph.name}.${name}`));
    // A `waiting` record is the shape written when the DAG started: it runs on (its nodes replay).
    if (slot.record && slot.record.status !== 'waiting') {
      for (const nodeSlot of nodeSlots.values()) this.#replay.skip(nodeSlot.position);
      return this.#replayed(slot);
    }
    if (!slot.record && this.options.replayOnly) return this.#frontier(slot);
    return runDag(this, { slot, nodeSlots }, graph, input, options);
  }

  async now(): Promise<Date> {
    return new Date(await this.#recorded('now', () => this.options.clock.now()));
  }

  random(): Promise<number> {
    return this.#recorded('random', () => Math.random());
  }

  uuid(): Promise<string> {
    return this.#recorded('uuid', () => uuidv7(this.options.clock.now()));
  }

  progress(value: unknown): Promise<void> {
    return reportProgress(this, value);
  }

  async patched(id: string): Promise<boolean> {
    return (await this.#patch(id, false)) !== 'absent';
  }

  async deprecatePatch(id: string): Promise<void> {
    await this.#patch(id, true);
  }

  /** The position after the last one the code called or passed over (see `HistoryCursor.next`). */
  get nextPosition(): number {
    return this.#cursor.next;
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

  /**
   * `ctx.patched` / `ctx.deprecatePatch`: the marker replayed in its turn, written when the code
   * runs past the recorded history, or absent (history from code without the patch). The first
   * answer for an id holds for the rest of the activation, and takes no further position.
   */
  async #patch(id: string, deprecated: boolean): Promise<'marked' | 'fresh' | 'absent'> {
    const memo = this.#patches.get(id);
    if (memo !== undefined) return memo ? 'marked' : 'absent';
    validateName(id, 'patch id');
    if (this.#done) throw new FlowCancelledError(this.flowId, 'the flow activation has ended');
    const found = this.#cursor.patch(patchName(id));
    // `deprecatePatch` means the new code path: later calls of `patched` for it say true.
    this.#patches.set(id, deprecated || found.state !== 'absent');
    if (found.state === 'marked') await this.#replayed(found.slot);
    else if (found.state === 'fresh') {
      const { recorder } = this;
      const marker = recorder.final(found.slot, 'patch', {
        result: encodeMarker(this.options.codec, id, deprecated),
      });
      await this.liveness.track(recorder.write(marker));
    }
    return found.state;
  }

  /**
   * A versioned flow type's marker at position 0 (`versions.ts`): taken when recorded, written when
   * the flow runs for the first time; a history recorded unversioned keeps its positions.
   */
  #version(): void {
    const version = this.options.definition.options.version;
    if (version === undefined) return;
    const { history } = this.options;
    const recorded = recordedVersion(history);
    if (recorded !== undefined) {
      this.#cursor.take('patch', versionName(recorded));
      this.#replay.skip(0);
      return;
    }
    if (history.length > 0) return;
    const slot = this.#cursor.take('patch', versionName(version));
    if (this.options.replayOnly) return;
    const { recorder } = this;
    void this.liveness.track(
      recorder.write(recorder.final(slot, 'patch', { result: encodeMarker(this.options.codec, version, false) })),
    );
  }

  /** Takes the next position, checking it against history. */
  #slot(kind: OperationKind, name: string): Slot {
    if (this.#done) throw new FlowCancelledError(this.flowId, 'the flow activation has ended');
    try {
      return this.#cursor.take(kind, name);
    } catch (error) {
      if (error instanceof NonDeterminismError) {
        captureLocation(error);
        this.#end({ kind: 'fatal', error });
      }
      throw error;
    }
  }

  async #recorded<T>(kind: 'now' | 'random' | 'uuid', produce: () => T): Promise<T> {
    const slot = this.#slot(kind, kind);
    if (slot.record) return this.#replayed<T>(slot);
    if (this.options.replayOnly) return this.#frontier(slot);
    const { recorder } = this;
    return this.liveness.track(
      (async () => {
        const value = produce();
        await recorder.write(
          recorder.final(slot, kind, { result: recorder.encode(value, `result of ${slot.key}`) }),
        );
        return value;
      })(),
    );
  }

  /** Resolves a recorded operation, or evaluates it live (deferred a macrotask; see module comment). */
  #live<T>(slot: Slot, evaluate: () => Promise<T>): Promise<T> {
    if (slot.record && slot.record.status !== 'waiting') return this.#replayed<T>(slot);
    if (this.options.replayOnly) return this.#frontier(slot);
    return this.liveness.track(
      new Promise<void>((resolve) => setImmediate(resolve)).then(() => (this.#done ? never() : evaluate())),
    );
  }

  #sleep(slot: Slot, wakeAt: () => number): Promise<void> {
    return this.#live(slot, () => sleepUntilDue(this, slot, wakeAt));
  }

  /** Runs (or replays) the step at `slot`. */
  runStep<R>(
    slot: Slot,
    kind: 'step' | 'run',
    fn: (scope: StepScope) => Promise<R> | R,
    options: NormalizedStepOptions,
  ): Promise<R> {
    if (slot.record && slot.record.status !== 'waiting') return this.#replayed<R>(slot);
    if (this.options.replayOnly) return this.#frontier(slot);
    return this.liveness.track(runAttempts(this, slot, kind, fn, options));
  }

  /**
   * Replay only: the operation at `slot` has no final record, so it is not run. It waits for
   * good (a wait at its position, due never), after the recorded results already called.
   */
  #frontier<T>(slot: Slot): Promise<T> {
    return this.liveness.track(
      new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.liveness.waitFor({ kind: 'timer', at: Number.MAX_SAFE_INTEGER, position: slot.position });
        return never();
      }),
    );
  }

  /** A recorded result, delivered in recording order (see `replay-order.ts`). */
  #replayed<T>(slot: Slot): Promise<T> {
    const record = slot.record as OperationRecord;
    return new Promise<T>((resolve, reject) => {
      this.#replay.deliver(slot.position, () => {
        try {
          this.settle<T>(record).then(resolve, reject);
        } catch (error) {
          reject(error);
        }
      });
    });
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

  /** Ends the activation after a failed store call. */
  #writeFailed(error: unknown): void {
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
    if (outcome.kind !== 'completed' && outcome.kind !== 'failed' && !this.abort.signal.aborted) {
      this.abort.abort(outcome.kind === 'blocked' ? new Error('flow suspended') : new Error(outcome.kind));
    }
    this.#resolve(outcome);
  }
}
