/**
 * Step attempts: runs a step's body under its retry policy and timeout, with
 * an abort signal per attempt, a span per step and per attempt when tracing,
 * short backoffs in memory and long ones as durable timers, and records the
 * final result or error.
 *
 * @module
 */

import { type OperationRecord, RetryPolicy, SerializationError, toError } from '@ergon/core';
import { type Context, context, type Span } from '@opentelemetry/api';
import type { FlowContext } from '../context.js';
import type { NormalizedStepOptions, StepScope } from '../definitions.js';
import { StepTimeoutError } from '../errors.js';
import type { ActivationOptions } from './activation-types.js';
import { AttemptScope } from './attempt-scope.js';
import type { FlowAbort } from './flow-abort.js';
import type { Slot } from './history-cursor.js';
import type { Liveness } from './liveness.js';
import { never, type Recorder } from './recorder.js';
import { runWithScope } from './scope.js';
import { Attr, endSpan, instruments, NO_SPAN, startChildSpan } from './telemetry.js';

/** What step attempts need from their activation. */
export interface StepHost {
  readonly flowId: string;
  readonly flowType: string;
  readonly options: ActivationOptions;
  /** The flow's controller: attempts' signals follow it. */
  readonly abort: FlowAbort;
  readonly recorder: Recorder;
  readonly liveness: Liveness;
  /** The flow context, put in scope for class-form steps. */
  readonly context: FlowContext;
  /** True once the activation ended. */
  ended(): boolean;
  /** A recorded result, or its recorded error thrown. */
  settle<T>(record: OperationRecord): Promise<T>;
}

/** The start of a step result's name in codec errors: two string joins per step rather than four. */
const RESULT_OF = { step: "result of step '", run: "result of run '" } as const;

type AttemptResult<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Runs the step at `slot` to its final record (or to a durable backoff), counted as live work. */
export function runAttempts<R>(
  host: StepHost,
  slot: Slot,
  kind: 'step' | 'run',
  fn: (scope: StepScope) => Promise<R> | R,
  options: NormalizedStepOptions,
): Promise<R> {
  const { definition, telemetry } = host.options;
  const policy = options.retry ?? definition.options.retry ?? RetryPolicy.STANDARD;
  const timeoutMs = options.timeoutMs ?? policy.timeout;
  // The path of most steps: a first run, with no span, metrics, timeout or async scope.
  const plain = !telemetry.tracing && !telemetry.metrics && timeoutMs === undefined && !definition.usesScope;
  if (plain && slot.record === undefined) {
    // firstAttempt says when it leaves (no reaction on its promise, on the path of every step).
    host.liveness.entered();
    return firstAttempt(host, slot, kind, fn, policy);
  }
  return host.liveness.track(attempts(host, slot, kind, fn, policy, timeoutMs, undefined));
}

/** A first attempt that failed, handed to {@link attempts} to retry or record. */
interface FailedAttempt {
  readonly error: unknown;
  readonly startedAt: number;
}

/**
 * The first attempt of a step on the plain path, in a small function of its own (its frame is
 * made for every step); a failure goes on in {@link attempts}.
 */
async function firstAttempt<R>(
  host: StepHost,
  slot: Slot,
  kind: 'step' | 'run',
  fn: (scope: StepScope) => Promise<R> | R,
  policy: RetryPolicy,
): Promise<R> {
  const { recorder, liveness } = host;
  // A step completed before this one is stored before this one's body runs (recorder.defer).
  // Awaited here rather than through recorder.flush: a promise and two turns less per step; the
  // common case (one record, nothing else in flight) awaits the store's answer itself.
  const flushed = recorder.pending;
  if (flushed) {
    try {
      const alone = recorder.sendAlone();
      if (alone === undefined) await recorder.send();
      else {
        const checked = recorder.aloneWritten(alone, await alone);
        if (checked !== undefined) await checked;
      }
    } catch (error) {
      return recorder.sendFailed(error);
    }
  }
  const startedAt = host.options.clock.now();
  liveness.attemptStarted();
  const scope = new AttemptScope(host.abort, 1, host.flowId, slot.key);
  let value: R;
  try {
    // The body starts in a later microtask, never inside the ctx call that made it (after a
    // flush it is in one already).
    if (!flushed) await null;
    const result = fn(scope);
    // A body that returned its value (not a promise) needs no turn of its own.
    value = isThenable(result) ? await result : result;
  } catch (error) {
    scope.release();
    liveness.attemptEnded();
    return liveness.handOver(attempts(host, slot, kind, fn, policy, undefined, { error, startedAt }));
  }
  scope.release();
  liveness.attemptEnded();
  if (host.ended()) return never();
  const done = completed(host, slot, kind, value, 1, startedAt, NO_SPAN.span);
  // A value that could not be encoded is live until its failure is recorded.
  if (done instanceof Promise) return liveness.handOver(done);
  liveness.left();
  return done;
}

/** Attempts of the step at `slot` under its policy, from the first, the next after history, or after `failed`. */
async function attempts<R>(
  host: StepHost,
  slot: Slot,
  kind: 'step' | 'run',
  fn: (scope: StepScope) => Promise<R> | R,
  policy: RetryPolicy,
  timeoutMs: number | undefined,
  failed: FailedAttempt | undefined,
): Promise<R> {
  const { clock, durableBackoffMs, definition, telemetry } = host.options;
  const { recorder, liveness } = host;
  const prior = slot.record;
  if (!failed) {
    if (prior?.wakeAt !== undefined && clock.now() < prior.wakeAt) {
      liveness.waitFor({ kind: 'timer', at: prior.wakeAt, position: slot.position });
      return never();
    }
    // A step completed before this one is stored before this one's body runs (recorder.defer).
    if (recorder.pending) await recorder.flush();
  }
  const startedAt = failed?.startedAt ?? prior?.startedAt ?? clock.now();
  const { tracing, metrics } = telemetry;
  const step = tracing
    ? startChildSpan('ergon.step', host.options.traceContext, {
        [Attr.flowId]: host.flowId,
        [Attr.flowType]: host.flowType,
        [Attr.stepKey]: slot.key,
      })
    : NO_SPAN;
  // No span, timeout or async scope: the attempt runs right here, without a promise of its own.
  const inline = !tracing && timeoutMs === undefined && !definition.usesScope;
  let handed = failed;
  for (let attempt = handed ? 1 : (prior?.attempts ?? 0) + 1; ; attempt++) {
    let ok = false;
    let value: R | undefined;
    let failure: unknown;
    if (handed) {
      // The first attempt ran in firstAttempt.
      failure = handed.error;
      handed = undefined;
    } else {
      liveness.attemptStarted();
      if (inline) {
        const scope = new AttemptScope(host.abort, attempt, host.flowId, slot.key);
        try {
          await null;
          const result = fn(scope);
          value = isThenable(result) ? await result : result;
          ok = true;
        } catch (error) {
          failure = error;
        }
        scope.release();
      } else {
        const outcome = await fullAttempt(host, slot, fn, attempt, timeoutMs, step.context);
        if (outcome.ok) {
          ok = true;
          value = outcome.value;
        } else {
          failure = outcome.error;
        }
      }
      liveness.attemptEnded();
    }
    if (host.ended()) {
      endSpan(step.span, 'abandoned');
      return never();
    }
    if (ok) return completed(host, slot, kind, value as R, attempt, startedAt, step.span);
    const error = toError(failure);
    if (!policy.shouldRetry(attempt, error) || error instanceof SerializationError) {
      if (tracing || metrics) stepEnded(host, step.span, 'failed', startedAt, error);
      return host.settle<R>(
        await recorder.write(
          recorder.final(slot, kind, { failed: true, error, attempts: attempt, startedAt }),
        ),
      );
    }
    if (metrics) instruments().retries.add(1, { [Attr.flowType]: host.flowType });
    const delay = policy.delayAfter(attempt);
    host.options.logger.debug('step attempt failed; retrying', {
      flowId: host.flowId,
      key: slot.key,
      attempt,
      delay,
    });
    if (delay >= durableBackoffMs) {
      const wakeAt = clock.now() + delay;
      endSpan(step.span, 'retry-scheduled', error);
      await recorder.write(recorder.waiting(slot, kind, wakeAt, { attempts: attempt, error, startedAt }));
      liveness.waitFor({ kind: 'timer', at: wakeAt, position: slot.position });
      return never();
    }
    try {
      await clock.sleep(delay, host.abort.signal);
    } catch {
      endSpan(step.span, 'abandoned');
      return never();
    }
  }
}

/**
 * A step's value came back: its record is deferred (stored before the flow's next effect or with
 * its end, not awaited here), or, when the value cannot be encoded, the step fails with that.
 */
function completed<R>(
  host: StepHost,
  slot: Slot,
  kind: 'step' | 'run',
  value: R,
  attempt: number,
  startedAt: number,
  span: Span,
): R | Promise<R> {
  const { recorder } = host;
  const { tracing, metrics } = host.options.telemetry;
  let encoded: string;
  try {
    encoded = recorder.encode(value, RESULT_OF[kind] + slot.key + "'");
  } catch (error) {
    if (tracing || metrics) stepEnded(host, span, 'failed', startedAt, error);
    return recorder
      .write(recorder.final(slot, kind, { failed: true, error, attempts: attempt, startedAt }))
      .then((record) => host.settle<R>(record));
  }
  if (tracing || metrics) stepEnded(host, span, 'completed', startedAt);
  recorder.defer(recorder.final(slot, kind, { result: encoded, attempts: attempt, startedAt }));
  return value;
}

/** True for a promise or any other thenable (what `await` would wait for). */
function isThenable<R>(value: Promise<R> | R): value is Promise<R> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** One attempt with what the inline path leaves out: its span, its timeout, the async scope. */
async function fullAttempt<R>(
  host: StepHost,
  slot: Slot,
  fn: (scope: StepScope) => Promise<R> | R,
  attempt: number,
  timeoutMs: number | undefined,
  stepContext: Context,
): Promise<AttemptResult<R>> {
  const { tracing } = host.options.telemetry;
  const span = tracing
    ? startChildSpan('ergon.attempt', stepContext, {
        [Attr.flowId]: host.flowId,
        [Attr.stepKey]: slot.key,
        [Attr.attempt]: attempt,
      })
    : NO_SPAN;
  const scope = new AttemptScope(host.abort, attempt, host.flowId, slot.key);
  // The attempt's span is active while user code runs: its own spans and logs nest under it.
  const call = tracing ? () => context.with(span.context, fn, undefined, scope) : () => fn(scope);
  const work = host.options.definition.usesScope
    ? Promise.resolve().then(() => runWithScope({ ctx: host.context, inStep: true }, call))
    : Promise.resolve().then(call);
  let timer: NodeJS.Timeout | undefined;
  try {
    let value: R;
    if (timeoutMs === undefined) {
      value = await work;
    } else {
      // Cancellation needs no race here: it ends the activation, which stops
      // waiting for this attempt.
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const timedOut = new StepTimeoutError(slot.key, timeoutMs);
          scope.timeOut(timedOut);
          reject(timedOut);
        }, timeoutMs);
      });
      work.catch(() => {}); // a timed-out attempt may reject later; never unhandled
      value = await Promise.race([work, expired]);
    }
    endSpan(span.span, 'completed');
    return { ok: true, value };
  } catch (error) {
    endSpan(span.span, 'failed', error);
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
    scope.release();
  }
}

/** Ends a step's span and counts it. */
function stepEnded(
  host: StepHost,
  span: Span,
  outcome: 'completed' | 'failed',
  startedAt: number,
  error?: unknown,
): void {
  endSpan(span, outcome, error);
  if (!host.options.telemetry.metrics) return;
  const m = instruments();
  const attributes = { [Attr.flowType]: host.flowType, [Attr.outcome]: outcome };
  m.steps.add(1, attributes);
  m.stepDuration.record(host.options.clock.now() - startedAt, attributes);
}
