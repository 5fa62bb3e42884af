/**
 * Drives a claimed flow under its lease: heartbeats, activations until the
 * flow completes, fails, suspends or is cancelled, and the final write.
 *
 * @module
 */
import type { Context } from '@opentelemetry/api';
import {
  type ClaimedFlow,
  type Clock,
  type Codec,
  type ExecutionLog,
  LeaseLostError,
  type Logger,
  toError,
  type Wait,
} from '@ergon/core';
import type { AnyFlowDefinition } from '../definitions.js';
import { FlowCancelledError, UnknownFlowTypeError } from '../errors.js';
import { Activation } from './activation.js';
import { cancelChildren } from './cancel.js';
import { encodeError } from './encode-error.js';
import {
  Attr,
  endSpan,
  instruments,
  NO_SPAN,
  startFlowSpan,
  TELEMETRY_OFF,
  type TelemetryState,
  telemetryState,
} from './telemetry.js';

/** How one run of a claimed flow ended. */
export type RunOutcome =
  | { readonly status: 'completed'; readonly result: unknown }
  | { readonly status: 'failed'; readonly error: Error }
  | { readonly status: 'suspended'; readonly waits: readonly Wait[] }
  | { readonly status: 'cancelled' }
  /** The lease was lost or the store failed; another worker will take the flow over. */
  | { readonly status: 'abandoned'; readonly error: Error };

/**
 * How a worker abandons a run from outside (its stop() ran out of time). A
 * plain switch rather than an `AbortSignal`: an `AbortController`, its signal
 * and a listener added and removed per run cost about 4.5 µs on Node 20, a
 * visible share of a one-step flow.
 */
export class RunStop {
  #requested = false;
  #listener: (() => void) | undefined;

  /** True once {@link RunStop.request} was called. */
  get requested(): boolean {
    return this.#requested;
  }

  /** Abandons the run: calls the current listener, if any, once. */
  request(): void {
    if (this.#requested) return;
    this.#requested = true;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }

  /**
   * Sets (or with `undefined` clears) what {@link RunStop.request} calls. Like
   * a listener added to an aborted signal, one set after the request is never called.
   */
  listen(listener: (() => void) | undefined): void {
    if (!this.#requested) this.#listener = listener;
  }
}

/** Shared by the worker and the executor. */
export interface RunnerOptions {
  readonly store: ExecutionLog;
  readonly codec: Codec;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly flows: ReadonlyMap<string, AnyFlowDefinition>;
  readonly workerId: string;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly durableBackoffMs: number;
}

/** Runs a claimed flow until it leaves this worker. Never throws. */
export async function runClaimed(
  options: RunnerOptions,
  claimed: ClaimedFlow,
  stop?: RunStop,
): Promise<RunOutcome> {
  const { flow } = claimed;
  const telemetry = telemetryState();
  if (!telemetry.tracing && !telemetry.metrics)
    return drive(options, claimed, NO_SPAN.context, TELEMETRY_OFF, stop);
  const startedAt = options.clock.now();
  const traced = telemetry.tracing
    ? startFlowSpan({
        flowId: flow.id,
        flowType: flow.type,
        workerId: options.workerId,
        traceContext: flow.traceContext,
      })
    : NO_SPAN;
  const m = telemetry.metrics ? instruments() : undefined;
  m?.activeFlows.add(1, { [Attr.flowType]: flow.type });
  const outcome = await drive(options, claimed, traced.context, telemetry, stop);
  const attributes = { [Attr.flowType]: flow.type, [Attr.outcome]: outcome.status };
  m?.activeFlows.add(-1, { [Attr.flowType]: flow.type });
  m?.flowRuns.add(1, attributes);
  m?.flowRunDuration.record(options.clock.now() - startedAt, attributes);
  const failed = outcome.status === 'failed' || outcome.status === 'abandoned';
  endSpan(traced.span, outcome.status, failed ? outcome.error : undefined);
  return outcome;
}

async function drive(
  options: RunnerOptions,
  claimed: ClaimedFlow,
  traceContext: Context,
  telemetry: TelemetryState,
  stop?: RunStop,
): Promise<RunOutcome> {
  const { store, clock, codec, logger } = options;
  const { flow, token } = claimed;
  const lease = { flowId: flow.id, token };
  const log = logger.child({ flowId: flow.id, flowType: flow.type, workerId: options.workerId });
  let current: Activation | undefined;
  let cancelled = flow.cancelRequested;
  let lost: Error | undefined;

  const heartbeat = setInterval(async () => {
    try {
      const renewed = await store.renewLease({ ...lease, leaseMs: options.leaseMs, now: clock.now() });
      if (renewed.cancelRequested) {
        cancelled = true;
        current?.cancel('cancellation requested');
      }
    } catch (error) {
      if (error instanceof LeaseLostError) {
        lost = error;
        current?.abandon(error);
      } else {
        log.warn('lease renewal failed; will retry', { error: toError(error).message });
      }
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  /** Records the outcome; `encoded` is a completed flow's result, when already encoded. */
  const finish = async (outcome: RunOutcome, encoded?: string): Promise<RunOutcome> => {
    try {
      if (outcome.status === 'completed') {
        await store.finishFlow({
          ...lease,
          status: 'completed',
          result: encoded ?? codec.encode(outcome.result),
          now: clock.now(),
        });
      } else if (outcome.status === 'failed') {
        await store.finishFlow({
          ...lease,
          status: 'failed',
          error: encodeError(codec, outcome.error),
          now: clock.now(),
        });
      } else if (outcome.status === 'cancelled') {
        await store.finishFlow({
          ...lease,
          status: 'cancelled',
          error: encodeError(codec, new FlowCancelledError(flow.id)),
          now: clock.now(),
        });
        await cancelChildren(store, codec, clock, flow.id);
      }
      return outcome;
    } catch (error) {
      log.warn('could not record the flow outcome; another worker will resume it', {
        error: toError(error).message,
      });
      return { status: 'abandoned', error: toError(error) };
    }
  };

  try {
    const definition = options.flows.get(flow.type);
    if (!definition) {
      return await finish({
        status: 'failed',
        error: new UnknownFlowTypeError(flow.type, [...options.flows.keys()]),
      });
    }
    if (cancelled) return await finish({ status: 'cancelled' });
    // Stores write history only under a claim: a flow claimed for the first time has none to read.
    let fresh = flow.runCount === 1;
    for (;;) {
      const history = fresh ? [] : await store.getHistory(flow.id);
      fresh = false;
      if (lost) return { status: 'abandoned', error: lost };
      const activation = new Activation({
        ...options,
        flow,
        token,
        history,
        definition,
        traceContext,
        telemetry,
      });
      current = activation;
      stop?.listen(() => activation.abandon(new Error('worker stopping')));
      const outcome = await activation.start();
      stop?.listen(undefined);
      switch (outcome.kind) {
        case 'completed': {
          let encoded: string;
          try {
            encoded = codec.encode(outcome.value, `result of flow ${flow.id}`);
          } catch (error) {
            return await finish({ status: 'failed', error: toError(error) });
          }
          return await finish({ status: 'completed', result: outcome.value }, encoded);
        }
        case 'failed':
          return await finish({ status: 'failed', error: toError(outcome.error) });
        case 'fatal':
          log.error('flow failed fatally', { error: outcome.error.message });
          return await finish({ status: 'failed', error: outcome.error });
        case 'abandoned':
          return { status: 'abandoned', error: outcome.error };
        case 'cancelled':
          await drain(activation);
          return await finish({ status: 'cancelled' });
        case 'blocked': {
          const suspended = await store.suspend({ ...lease, waits: outcome.waits, now: clock.now() });
          if (suspended.outcome === 'suspended') return { status: 'suspended', waits: outcome.waits };
          if (suspended.outcome === 'cancelled') {
            await cancelChildren(store, codec, clock, flow.id);
            return { status: 'cancelled' };
          }
          break; // ready: a wait resolved meanwhile; run again under the same lease
        }
      }
    }
  } catch (error) {
    const failure = toError(error);
    log.warn('flow run abandoned', { error: failure.message });
    return { status: 'abandoned', error: failure };
  } finally {
    clearInterval(heartbeat);
  }
}

/** Gives aborted attempts a moment to settle before the flow is marked cancelled. */
async function drain(activation: Activation, graceMs = 1000): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (activation.active > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
