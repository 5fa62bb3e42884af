/**
 * One activation: a run of a flow function from the top against its recorded
 * history. Recorded operations return their results without running; new ones
 * run live and are recorded. The activation ends when the function settles,
 * when it can only wait (every live operation settled, waits pending), or on a
 * fatal condition (non-determinism, a lost lease, an unreadable history).
 *
 * Ordering rule that makes races deterministic: recorded results resolve in
 * microtasks, while live evaluation of waits (sleep, signal, child) is deferred
 * to a macrotask. So on replay every recorded winner of a `Promise.race`
 * resolves before a loser could be evaluated live.
 *
 * @module
 */
import { type Context, context, type Span } from '@opentelemetry/api';
import {
  type Clock,
  type Codec,
  type Duration,
  type ExecutionLog,
  type FlowRecord,
  InvalidArgumentError,
  isTerminalStatus,
  LeaseLostError,
  type LeaseRef,
  type Logger,
  type OperationKind,
  type OperationRecord,
  type RecordResult,
  RetryPolicy,
  SerializationError,
  toError,
  toMillis,
  uuidv7,
  type Wait,
} from '@ergon/core';
import { describeGraph, executeGraph, type GraphNode } from '@ergon/graph';
import type { ChildOptions, FlowContext, WaitForSignalOptions } from '../context.js';
import type { AnyGraph, DagOptions, DagResultOf, GraphInputOf } from '../dag.js';
import {
  type FlowDefinition,
  normalizeStepOptions,
  type NormalizedStepOptions,
  type StepDefinition,
  type StepOptions,
  type StepScope,
  validateName,
} from '../definitions.js';
import {
  ChildFlowFailedError,
  FlowCancelledError,
  NonDeterminismError,
  SignalTimeoutError,
  StepTimeoutError,
} from '../errors.js';
import { AttemptScope } from './attempt-scope.js';
import { encodeError } from './encode-error.js';
import { runWithScope } from './scope.js';
import { Attr, endSpan, instruments, NO_SPAN, startChildSpan, type TelemetryState } from './telemetry.js';

/** How an activation ended. */
export type ActivationOutcome =
  | { readonly kind: 'completed'; readonly value: unknown }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'blocked'; readonly waits: readonly Wait[] }
  /** Fail the flow regardless of what the code does (non-determinism, unreadable history). */
  | { readonly kind: 'fatal'; readonly error: Error }
  /** Stop without writing anything more (lease lost, store unreachable). */
  | { readonly kind: 'abandoned'; readonly error: Error }
  | { readonly kind: 'cancelled' };

/** What an activation needs. */
export interface ActivationOptions {
  readonly flow: FlowRecord;
  readonly token: number;
  readonly history: readonly OperationRecord[];
  readonly store: ExecutionLog;
  readonly codec: Codec;
  readonly clock: Clock;
  readonly logger: Logger;
  // biome-ignore lint/suspicious/noExplicitAny: the registry holds every flow type.
  readonly definition: FlowDefinition<any, any>;
  /** Backoffs at least this long become durable timers. */
  readonly durableBackoffMs: number;
  /** The `ergon.flow` span's context: parent of step spans. */
  readonly traceContext: Context;
  /** Which telemetry signals are on for this run. */
  readonly telemetry: TelemetryState;
}

const NEVER: Promise<never> = new Promise(() => {});

/** `ctx.run` without options. */
const NO_STEP_OPTIONS = normalizeStepOptions();

type Slot = { position: number; key: string; record: OperationRecord | undefined };

/** Runs one activation of a flow. Create, then `await start()`. */
export class Activation implements FlowContext {
  readonly flowId: string;
  readonly flowType: string;
  readonly #o: ActivationOptions;
  readonly #lease: LeaseRef;
  /** Names of `ctx.run` already checked. */
  readonly #checkedNames = new Set<string>();
  readonly #records = new Map<number, OperationRecord>();
  readonly #counts = new Map<string, number>();
  readonly #waits: Wait[] = [];
  readonly #abort = new AbortController();
  /** Replay order: position → rank of its final record in recording order. */
  readonly #rank = new Map<number, number>();
  /** Called recorded operations waiting for their turn, by rank. */
  readonly #turns = new Map<number, () => void>();
  /** Ranks that will never be called (nodes of a DAG replayed whole). */
  readonly #skippedRanks = new Set<number>();
  #nextRank = 0;
  #nextSeq = 1;
  #nextPosition = 0;
  #active = 0;
  #done = false;
  #checkScheduled = false;
  #resolve!: (outcome: ActivationOutcome) => void;
  readonly outcome: Promise<ActivationOutcome>;

  constructor(options: ActivationOptions) {
    this.#o = options;
    this.flowId = options.flow.id;
    this.flowType = options.flow.type;
    this.#lease = { flowId: options.flow.id, token: options.token };
    for (const record of options.history) this.#records.set(record.position, record);
    const finals = options.history
      .filter((r) => r.status !== 'waiting')
      .sort(
        (a, b) =>
          (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER) ||
          (a.finishedAt ?? 0) - (b.finishedAt ?? 0) ||
          a.position - b.position,
      );
    for (const [rank, r] of finals.entries()) this.#rank.set(r.position, rank);
    for (const r of options.history)
      if (r.seq !== undefined && r.seq >= this.#nextSeq) this.#nextSeq = r.seq + 1;
    this.outcome = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Number of live operations still running (steps, writes). */
  get active(): number {
    return this.#active;
  }

  /** Starts the flow function; returns the outcome. */
  start(): Promise<ActivationOutcome> {
    const { definition, flow, codec } = this.#o;
    let input: unknown;
    try {
      const stored = codec.decode(flow.input, `input of flow ${flow.id}`);
      input = definition.reviveInput ? definition.reviveInput(stored) : stored;
    } catch (error) {
      this.#end({ kind: 'fatal', error: toError(error) });
      return this.outcome;
    }
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
    this.#abort.abort(new FlowCancelledError(this.flowId, reason));
    this.#end({ kind: 'cancelled' });
  }

  /** Stops the activation because the lease was lost or the store failed. */
  abandon(error: Error): void {
    if (this.#done) return;
    this.#abort.abort(error);
    this.#end({ kind: 'abandoned', error });
  }

  // ---- FlowContext ------------------------------------------------------

  step<A extends unknown[], R>(definition: StepDefinition<A, R>, ...args: A): Promise<R> {
    if (definition?.kind !== 'step') {
      return Promise.reject(
        new InvalidArgumentError('ctx.step needs a step definition made with step(name, fn)'),
      );
    }
    const slot = this.#slot('step', definition.name);
    return this.#runStep(slot, 'step', (scope) => definition.fn(...args, scope), definition.options);
  }

  run<R>(name: string, fn: (scope: StepScope) => Promise<R> | R, options?: StepOptions): Promise<R> {
    if (!this.#checkedNames.has(name)) {
      validateName(name, 'run name');
      this.#checkedNames.add(name);
    }
    const normalized = options === undefined ? NO_STEP_OPTIONS : normalizeStepOptions(options);
    const slot = this.#slot('run', name);
    return this.#runStep(slot, 'run', fn, normalized);
  }

  /** A class-form step (`@Step()`): a durable step named `name`. */
  runNamedStep<R>(name: string, fn: () => Promise<R> | R, options: NormalizedStepOptions): Promise<R> {
    const slot = this.#slot('step', name);
    return this.#runStep(slot, 'step', fn, options);
  }

  sleep(duration: Duration): Promise<void> {
    const ms = toMillis(duration, 'sleep duration');
    return this.#sleep(this.#slot('sleep', 'sleep'), () => this.#o.clock.now() + ms);
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
    return this.#live(slot, async () => {
      const consumed = await this.#write(() =>
        this.#o.store.consumeSignal(this.#lease, {
          name,
          record: this.#record(slot, 'signal', {
            attempts: 1,
            finishedAt: this.#o.clock.now(),
            seq: this.#nextSeq++,
          }),
        }),
      );
      if (consumed) return this.#settle<T>(consumed.record);
      if (timeoutMs !== undefined) {
        const deadline = slot.record?.wakeAt ?? this.#o.clock.now() + timeoutMs;
        if (this.#o.clock.now() >= deadline) {
          const failed = await this.#recordFinal(slot, 'signal', {
            error: new SignalTimeoutError(name, timeoutMs),
          });
          return this.#settle<T>(failed);
        }
        if (!slot.record) await this.#recordWaiting(slot, 'signal', deadline);
        this.#waitFor({ kind: 'timer', at: deadline, position: slot.position });
      }
      this.#waitFor({ kind: 'signal', name, position: slot.position });
      return NEVER;
    });
  }

  child<I, O>(definition: FlowDefinition<I, O>, input: I, options: ChildOptions = {}): Promise<O> {
    if (definition?.kind !== 'flow') {
      return Promise.reject(
        new InvalidArgumentError('ctx.child needs a flow definition made with flow(name, fn)'),
      );
    }
    const slot = this.#slot('child', definition.name);
    const childId = options.flowId ?? `${this.flowId}/${slot.position}`;
    return this.#live(slot, async () => {
      const { store, clock, codec, flow } = this.#o;
      let child = await this.#write(() => store.getFlow(childId));
      if (!child) {
        const stored = definition.storeInput ? definition.storeInput(input) : input;
        let encoded: string;
        try {
          encoded = codec.encode(stored, `input of child flow ${childId}`);
        } catch (error) {
          return this.#settle<O>(await this.#recordFinal(slot, 'child', { error }));
        }
        const created = await this.#write(() =>
          store.createFlow({
            id: childId,
            type: definition.name,
            queue: options.queue ?? definition.options.queue,
            input: encoded,
            priority: options.priority ?? flow.priority,
            runAt: clock.now(),
            parentId: flow.id,
            traceContext: flow.traceContext,
            now: clock.now(),
          }),
        );
        child = created.flow;
      }
      if (isTerminalStatus(child.status)) {
        if (child.status === 'completed') {
          return this.#settle<O>(
            await this.#recordFinal(slot, 'child', {
              encodedResult: child.result ?? codec.encode(undefined),
            }),
          );
        }
        const cause = child.error ? this.#decode(child.error, `error of child ${childId}`) : undefined;
        const error = new ChildFlowFailedError(childId, child.status, cause);
        return this.#settle<O>(await this.#recordFinal(slot, 'child', { error }));
      }
      // A waiting record shows the child in the parent's history while it runs.
      if (!slot.record) await this.#recordWaiting(slot, 'child', undefined);
      this.#waitFor({ kind: 'child', flowId: childId, position: slot.position });
      return NEVER;
    });
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
    if (slot.record) {
      for (const name of graph.order) {
        const rank = this.#rank.get(nodeSlots.get(name)?.position ?? -1);
        if (rank !== undefined) this.#skippedRanks.add(rank);
      }
      return this.#replay(slot);
    }
    // Not counted as live work itself: its nodes are, and a node waiting on a
    // timer must let the flow suspend.
    const startedAt = this.#o.clock.now();
    const run = async (): Promise<DagResultOf<G>> => {
      const result = await executeGraph(graph, input, {
        maxParallel: options.maxParallel,
        failurePolicy: options.failurePolicy,
        signal: this.#abort.signal,
        runNode: (node: GraphNode<unknown>, deps, nodeInput) => {
          const nodeSlot = nodeSlots.get(node.name) as Slot;
          return this.#runStep(
            nodeSlot,
            'step',
            (scope) =>
              node.run(deps, nodeInput, { signal: scope.signal, node: node.name, graph: graph.name }),
            normalizeStepOptions({ retry: node.retry, timeout: node.timeout }),
          );
        },
      });
      // The graph's shape travels with the result, so tools (CLI, dashboard) can
      // draw the DAG from history alone.
      const recorded = { ...result, graph: describeGraph(graph) };
      return this.#settle(await this.#track(this.#recordFinal(slot, 'dag', { result: recorded, startedAt })));
    };
    return run();
  }

  async now(): Promise<Date> {
    return new Date(await this.#recorded('now', () => this.#o.clock.now()));
  }

  random(): Promise<number> {
    return this.#recorded('random', () => Math.random());
  }

  uuid(): Promise<string> {
    return this.#recorded('uuid', () => uuidv7(this.#o.clock.now()));
  }

  // ---- machinery --------------------------------------------------------

  /** Takes the next position, checking it against history. */
  #slot(kind: OperationKind, name: string): Slot {
    if (this.#done) throw new FlowCancelledError(this.flowId, 'the flow activation has ended');
    const position = this.#nextPosition++;
    const n = this.#counts.get(name) ?? 0;
    this.#counts.set(name, n + 1);
    const key = `${name}#${n}`;
    const record = this.#records.get(position);
    if (record && (record.key !== key || record.kind !== kind)) {
      const error = new NonDeterminismError({
        flowId: this.flowId,
        position,
        recordedKey: `${record.kind}:${record.key}`,
        calledKey: `${kind}:${key}`,
      });
      this.#end({ kind: 'fatal', error });
      throw error;
    }
    return { position, key, record };
  }

  async #recorded<T>(kind: 'now' | 'random' | 'uuid', produce: () => T): Promise<T> {
    const slot = this.#slot(kind, kind);
    if (slot.record) return this.#replay<T>(slot);
    return this.#track(
      (async () => {
        const value = produce();
        await this.#recordFinal(slot, kind, { result: value });
        return value;
      })(),
    );
  }

  /** Resolves a recorded operation, or evaluates it live (deferred a macrotask; see module comment). */
  #live<T>(slot: Slot, evaluate: () => Promise<T>): Promise<T> {
    if (slot.record && slot.record.status !== 'waiting') return this.#replay<T>(slot);
    return this.#track(
      new Promise<void>((resolve) => setImmediate(resolve)).then(() => (this.#done ? NEVER : evaluate())),
    );
  }

  #sleep(slot: Slot, wakeAt: () => number): Promise<void> {
    return this.#live(slot, async () => {
      const at = slot.record?.wakeAt ?? wakeAt();
      const now = this.#o.clock.now();
      if (now >= at) {
        if (slot.record && this.#o.telemetry.metrics) {
          instruments().timerLateness.record(now - at, { [Attr.flowType]: this.flowType });
        }
        await this.#recordFinal(slot, 'sleep', { result: undefined });
        return;
      }
      if (!slot.record) await this.#recordWaiting(slot, 'sleep', at);
      this.#waitFor({ kind: 'timer', at, position: slot.position });
      return NEVER;
    });
  }

  #runStep<R>(
    slot: Slot,
    kind: 'step' | 'run',
    fn: (scope: StepScope) => Promise<R> | R,
    options: NormalizedStepOptions,
  ): Promise<R> {
    if (slot.record && slot.record.status !== 'waiting') return this.#replay<R>(slot);
    return this.#track(this.#attempts(slot, kind, fn, options));
  }

  async #attempts<R>(
    slot: Slot,
    kind: 'step' | 'run',
    fn: (scope: StepScope) => Promise<R> | R,
    options: NormalizedStepOptions,
  ): Promise<R> {
    const { clock, codec, durableBackoffMs } = this.#o;
    const policy = options.retry ?? this.#o.definition.options.retry ?? RetryPolicy.STANDARD;
    const timeoutMs = options.timeoutMs ?? policy.timeout;
    const prior = slot.record;
    if (prior?.wakeAt !== undefined && clock.now() < prior.wakeAt) {
      this.#waitFor({ kind: 'timer', at: prior.wakeAt, position: slot.position });
      return NEVER;
    }
    const startedAt = prior?.startedAt ?? clock.now();
    const { tracing, metrics } = this.#o.telemetry;
    const step = tracing
      ? startChildSpan('ergon.step', this.#o.traceContext, {
          [Attr.flowId]: this.flowId,
          [Attr.flowType]: this.flowType,
          [Attr.stepKey]: slot.key,
        })
      : NO_SPAN;
    // No span, timeout or async scope: the attempt runs right here, without a promise of its own.
    const inline = !tracing && timeoutMs === undefined && !this.#o.definition.usesScope;
    for (let attempt = (prior?.attempts ?? 0) + 1; ; attempt++) {
      let ok = false;
      let value: R | undefined;
      let failure: unknown;
      if (inline) {
        const scope = new AttemptScope(this.#abort, attempt, this.flowId, slot.key);
        try {
          // The body starts in a later microtask, never inside the ctx call that made it.
          await null;
          value = await fn(scope);
          ok = true;
        } catch (error) {
          failure = error;
        }
        scope.release();
      } else {
        const outcome = await this.#attempt(slot, fn, attempt, timeoutMs, step.context);
        if (outcome.ok) {
          ok = true;
          value = outcome.value;
        } else {
          failure = outcome.error;
        }
      }
      if (this.#done) {
        endSpan(step.span, 'abandoned');
        return NEVER;
      }
      if (ok) {
        let encoded: string;
        try {
          encoded = codec.encode(value, `result of ${kind} '${slot.key}'`);
        } catch (error) {
          if (tracing || metrics) this.#stepEnded(step.span, 'failed', startedAt, error);
          return this.#settle<R>(
            await this.#recordFinal(slot, kind, { error, attempts: attempt, startedAt }),
          );
        }
        if (tracing || metrics) this.#stepEnded(step.span, 'completed', startedAt);
        // #recordFinal inlined: one async call fewer on the path every step takes.
        const record: OperationRecord = {
          flowId: this.flowId,
          position: slot.position,
          key: slot.key,
          kind,
          status: 'completed',
          attempts: attempt,
          result: encoded,
          error: undefined,
          startedAt,
          finishedAt: clock.now(),
          seq: this.#nextSeq++,
        };
        if (this.#done) return NEVER;
        let written: RecordResult;
        try {
          written = await this.#o.store.recordOperation(this.#lease, record);
        } catch (error) {
          return this.#writeFailed(error);
        }
        if (written.cancelRequested) this.cancel('cancellation requested');
        return value as R;
      }
      const error = toError(failure);
      if (!policy.shouldRetry(attempt, error) || error instanceof SerializationError) {
        if (tracing || metrics) this.#stepEnded(step.span, 'failed', startedAt, error);
        return this.#settle<R>(await this.#recordFinal(slot, kind, { error, attempts: attempt, startedAt }));
      }
      if (metrics) instruments().retries.add(1, { [Attr.flowType]: this.flowType });
      const delay = policy.delayAfter(attempt);
      this.#o.logger.debug('step attempt failed; retrying', {
        flowId: this.flowId,
        key: slot.key,
        attempt,
        delay,
      });
      if (delay >= durableBackoffMs) {
        const wakeAt = clock.now() + delay;
        endSpan(step.span, 'retry-scheduled', error);
        await this.#recordWaiting(slot, kind, wakeAt, { attempts: attempt, error, startedAt });
        this.#waitFor({ kind: 'timer', at: wakeAt, position: slot.position });
        return NEVER;
      }
      try {
        await clock.sleep(delay, this.#abort.signal);
      } catch {
        endSpan(step.span, 'abandoned');
        return NEVER;
      }
    }
  }

  /** Ends a step's span and counts it. */
  #stepEnded(span: Span, outcome: 'completed' | 'failed', startedAt: number, error?: unknown): void {
    endSpan(span, outcome, error);
    if (!this.#o.telemetry.metrics) return;
    const m = instruments();
    const attributes = { [Attr.flowType]: this.flowType, [Attr.outcome]: outcome };
    m.steps.add(1, attributes);
    m.stepDuration.record(this.#o.clock.now() - startedAt, attributes);
  }

  /** One attempt with what the inline path leaves out: its span, its timeout, the async scope. */
  async #attempt<R>(
    slot: Slot,
    fn: (scope: StepScope) => Promise<R> | R,
    attempt: number,
    timeoutMs: number | undefined,
    stepContext: Context,
  ): Promise<{ ok: true; value: R } | { ok: false; error: unknown }> {
    const span = this.#o.telemetry.tracing
      ? startChildSpan('ergon.attempt', stepContext, {
          [Attr.flowId]: this.flowId,
          [Attr.stepKey]: slot.key,
          [Attr.attempt]: attempt,
        })
      : NO_SPAN;
    const scope = new AttemptScope(this.#abort, attempt, this.flowId, slot.key);
    // The attempt's span is active while user code runs: its own spans and logs nest under it.
    const call = this.#o.telemetry.tracing
      ? () => context.with(span.context, fn, undefined, scope)
      : () => fn(scope);
    const work = this.#o.definition.usesScope
      ? Promise.resolve().then(() => runWithScope({ ctx: this, inStep: true }, call))
      : Promise.resolve().then(call);
    try {
      if (timeoutMs === undefined) {
        const value = await work;
        endSpan(span.span, 'completed');
        return { ok: true, value };
      }
      // Cancellation needs no race here: it ends the activation, which stops
      // waiting for this attempt.
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const timedOut = new StepTimeoutError(slot.key, timeoutMs);
          scope.timeOut(timedOut);
          reject(timedOut);
        }, timeoutMs);
      });
      work.catch(() => {}); // a timed-out attempt may reject later; never unhandled
      try {
        const value = await Promise.race([work, expired]);
        endSpan(span.span, 'completed');
        return { ok: true, value };
      } finally {
        clearTimeout(timer);
      }
    } catch (error) {
      endSpan(span.span, 'failed', error);
      return { ok: false, error };
    } finally {
      scope.release();
    }
  }

  #record(
    slot: Slot,
    kind: OperationKind,
    fields: Partial<OperationRecord>,
  ): OperationRecord & { status: never; result: never } {
    const now = this.#o.clock.now();
    return {
      flowId: this.flowId,
      position: slot.position,
      key: slot.key,
      kind,
      attempts: 1,
      startedAt: slot.record?.startedAt ?? now,
      ...fields,
    } as OperationRecord & { status: never; result: never };
  }

  async #recordFinal(
    slot: Slot,
    kind: OperationKind,
    value: {
      result?: unknown;
      encodedResult?: string;
      error?: unknown;
      attempts?: number;
      startedAt?: number;
    },
  ): Promise<OperationRecord> {
    const now = this.#o.clock.now();
    const failed = 'error' in value;
    // One literal, no spreads: this runs once per step and is on the hot path.
    const record: OperationRecord = {
      flowId: this.flowId,
      position: slot.position,
      key: slot.key,
      kind,
      status: failed ? 'failed' : 'completed',
      attempts: value.attempts ?? 1,
      result: failed
        ? undefined
        : (value.encodedResult ?? this.#o.codec.encode(value.result, `result of ${slot.key}`)),
      error: failed ? this.#encodeError(value.error) : undefined,
      startedAt: value.startedAt ?? slot.record?.startedAt ?? now,
      finishedAt: now,
      seq: this.#nextSeq++,
    };
    // Awaited here rather than through #write: no closure, no extra promise.
    if (this.#done) return NEVER;
    let written: RecordResult;
    try {
      written = await this.#o.store.recordOperation(this.#lease, record);
    } catch (error) {
      return this.#writeFailed(error);
    }
    if (written.cancelRequested) this.cancel('cancellation requested');
    return written.record;
  }

  async #recordWaiting(
    slot: Slot,
    kind: OperationKind,
    wakeAt: number | undefined,
    extra: { attempts?: number; error?: unknown; startedAt?: number } = {},
  ): Promise<void> {
    const record: OperationRecord = {
      ...this.#record(slot, kind, { attempts: extra.attempts ?? 1, wakeAt }),
      ...(extra.startedAt === undefined ? {} : { startedAt: extra.startedAt }),
      status: 'waiting',
      ...(extra.error === undefined ? {} : { error: this.#encodeError(extra.error) }),
    };
    const written = await this.#write(() => this.#o.store.recordOperation(this.#lease, record));
    if (written.cancelRequested) this.cancel('cancellation requested');
  }

  #encodeError(error: unknown): string {
    return encodeError(this.#o.codec, error);
  }

  /**
   * A recorded result, delivered in recording order: a record is resolved only
   * after every earlier-recorded one that the code has called, so a race is won
   * on replay by the operation that won it live.
   */
  #replay<T>(slot: Slot): Promise<T> {
    const record = slot.record as OperationRecord;
    const rank = this.#rank.get(slot.position);
    if (rank === undefined) return this.#settle<T>(record);
    return new Promise<T>((resolve, reject) => {
      this.#turns.set(rank, () => {
        try {
          this.#settle<T>(record).then(resolve, reject);
        } catch (error) {
          reject(error);
        }
      });
      this.#advance();
    });
  }

  #advance(): void {
    for (;;) {
      if (this.#skippedRanks.has(this.#nextRank)) {
        this.#nextRank++;
        continue;
      }
      const deliver = this.#turns.get(this.#nextRank);
      if (!deliver) break;
      this.#turns.delete(this.#nextRank);
      this.#nextRank++;
      deliver();
    }
    if (this.#turns.size > 0) this.#scheduleCheck();
  }

  /** Returns a recorded result, or throws its recorded error. */
  #settle<T>(record: OperationRecord): Promise<T> {
    if (record.status === 'failed') {
      return Promise.reject(
        record.error ? this.#decode(record.error, `error of ${record.key}`) : new Error('failed'),
      );
    }
    return Promise.resolve(
      record.result === undefined ? undefined : this.#decode(record.result, `result of ${record.key}`),
    ) as Promise<T>;
  }

  #decode(text: string, what: string): unknown {
    try {
      return this.#o.codec.decode(text, `${what} in flow ${this.flowId}`);
    } catch (error) {
      this.#end({ kind: 'fatal', error: toError(error) });
      throw error;
    }
  }

  /** A store call made by live work; lease loss and store failures end the activation. */
  async #write<T>(call: () => Promise<T>): Promise<T> {
    if (this.#done) return NEVER;
    try {
      return await call();
    } catch (error) {
      return this.#writeFailed(error);
    }
  }

  /** Ends the activation after a failed store call; returns a promise that never settles. */
  #writeFailed(error: unknown): Promise<never> {
    if (!this.#done) {
      const failure = toError(error);
      this.#o.logger.warn('store write failed; abandoning activation', {
        flowId: this.flowId,
        error: failure.message,
        lost: error instanceof LeaseLostError,
      });
      this.abandon(failure);
    }
    return NEVER;
  }

  /** Counts a live operation until it settles or turns into a wait. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#active++;
    // A promise settles once: one shared handler does for every operation.
    work.then(this.#untrack, this.#untrack);
    return work;
  }

  readonly #untrack = (): void => {
    this.#active--;
    this.#scheduleCheck();
  };

  #waitFor(wait: Wait): void {
    this.#waits.push(wait);
    // The operation that registered this wait will never settle in this
    // activation: stop counting it as live work.
    this.#active--;
    this.#scheduleCheck();
  }

  #scheduleCheck(): void {
    if (this.#checkScheduled || this.#done) return;
    this.#checkScheduled = true;
    setImmediate(() => {
      this.#checkScheduled = false;
      if (this.#done) return;
      if (this.#active <= 0 && this.#turns.size > 0) {
        // An earlier-recorded operation was never called (the code took another
        // path): deliver the waiting ones in their order rather than stall.
        this.#nextRank = Math.min(...this.#turns.keys());
        this.#advance();
        return;
      }
      if (this.#active <= 0 && this.#waits.length > 0) {
        this.#end({ kind: 'blocked', waits: [...this.#waits] });
      }
    });
  }

  #end(outcome: ActivationOutcome): void {
    if (this.#done) return;
    this.#done = true;
    if (outcome.kind !== 'completed' && outcome.kind !== 'failed' && !this.#abort.signal.aborted) {
      this.#abort.abort(outcome.kind === 'blocked' ? new Error('flow suspended') : new Error(outcome.kind));
    }
    this.#resolve(outcome);
  }
}
