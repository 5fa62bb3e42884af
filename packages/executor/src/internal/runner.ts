/**
 * Drives a claimed flow under its lease: heartbeats, activations until the
 * flow completes, fails, suspends or is cancelled, and the final write. A run
 * stopped by a failing store call goes through the poison rule (`abandon.ts`).
 *
 * @module
 */

import {
  type ClaimedFlow,
  type Clock,
  type Codec,
  LeaseLostError,
  type Logger,
  type RuntimeExecutionLog,
  toError,
} from '@ergon/core';
import type { Context } from '@opentelemetry/api';
import type { AnyFlowDefinition } from '../definitions.js';
import { FlowCancelledError, UnknownFlowTypeError } from '../errors.js';
import { DEFAULT_MAX_ABANDONED_RUNS, type GiveUpContext, giveUp, poisonCause } from './abandon.js';
import { Activation } from './activation.js';
import { cancelChildren } from './cancel.js';
import { encodeError } from './encode-error.js';
import { finishAfter, RecordRefusedError, suspendAfter } from './last-write.js';
import type { Recorder } from './recorder.js';
import type { RunControl, RunOutcome } from './run-control.js';
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
import { type ServedVersions, unservedVersion, withLiveServers } from './versions.js';

/** How long a cancelled run waits for attempts that ignore their aborted signal. */
const CANCEL_GRACE_MS = 1000;

/** Shared by the worker and the executor. */
export interface RunnerOptions {
  readonly store: RuntimeExecutionLog;
  readonly codec: Codec;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly flows: ReadonlyMap<string, AnyFlowDefinition>;
  readonly workerId: string;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly durableBackoffMs: number;
  /**
   * A claimed flow whose last runs were abandoned this many times in a row, the last for a
   * non-transient cause, is failed with that cause before it runs. Default 3.
   */
  readonly maxAbandonedRuns?: number;
  /** Per flow type, the recorded versions this worker serves (`versions.ts`); undefined: all. */
  readonly versions?: ServedVersions | undefined;
}

/** Runs a claimed flow until it leaves this worker. Never throws. */
export async function runClaimed(
  options: RunnerOptions,
  claimed: ClaimedFlow,
  control?: RunControl,
): Promise<RunOutcome> {
  const { flow } = claimed;
  const telemetry = telemetryState();
  if (!telemetry.tracing && !telemetry.metrics)
    return drive(options, claimed, NO_SPAN.context, TELEMETRY_OFF, control);
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
  const outcome = await drive(options, claimed, traced.context, telemetry, control);
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
  control?: RunControl,
): Promise<RunOutcome> {
  const { store, clock, codec, logger } = options;
  const { flow, token } = claimed;
  const lease = { flowId: flow.id, token };
  const log = logger.child({ flowId: flow.id, flowType: flow.type, workerId: options.workerId });
  let current: Activation | undefined;
  let cancelled = flow.cancelRequested || control?.cancelRequested === true;
  let stopped = false;
  let lost: Error | undefined;
  const cancel = () => {
    cancelled = true;
    current?.cancel('cancellation requested');
  };
  control?.listen({
    cancel,
    stop: () => {
      stopped = true;
      current?.abandon(new Error('worker stopping'));
    },
  });

  // One renewal at a time: a tick while the last is still out (a slow or reconnecting store) is skipped.
  let renewing = false;
  const renew = async () => {
    if (renewing) return;
    renewing = true;
    try {
      const renewed = await store.renewLease({ ...lease, leaseMs: options.leaseMs, now: clock.now() });
      if (renewed.cancelRequested) cancel();
    } catch (error) {
      if (error instanceof LeaseLostError) {
        lost = error;
        current?.abandon(error);
      } else {
        log.warn('lease renewal failed; will retry', { error: toError(error).message });
      }
    } finally {
      renewing = false;
    }
  };
  const heartbeat = setInterval(renew, options.heartbeatMs);
  heartbeat.unref();
  // A lease shorter than the heartbeat allows for (a hand-off's) is renewed by half its time left.
  const left = (flow.leaseExpiresAt ?? Number.POSITIVE_INFINITY) - clock.now();
  const early = left / 2 < options.heartbeatMs ? setTimeout(renew, Math.max(1, left / 2)) : undefined;
  early?.unref();

  const giveUpContext: GiveUpContext = { store, codec, clock, log, lease, flow };
  /** The poison rule for a run stopped by `error` (see `abandon.ts`). */
  const abandon = async (error: unknown, finishFailed = false): Promise<RunOutcome> => {
    if (lost) return { status: 'abandoned', error: lost };
    if (stopped) return { status: 'abandoned', error: new Error('worker stopping') };
    const given = await giveUp(giveUpContext, error, finishFailed);
    return { status: given.status, error: given.error };
  };

  /** Records the outcome; `encoded` is a completed flow's result, when already encoded. */
  const finish = async (outcome: RunOutcome, encoded?: string, recorder?: Recorder): Promise<RunOutcome> => {
    try {
      // Nothing of the flow runs after a completed or failed finish: its slot may serve the next.
      if (outcome.status === 'completed' || outcome.status === 'failed') control?.ending();
      if (outcome.status === 'completed') {
        await finishAfter(store, recorder, {
          ...lease,
          status: 'completed',
          result: encoded ?? codec.encode(outcome.result),
          now: clock.now(),
        });
      } else if (outcome.status === 'failed') {
        await finishAfter(store, recorder, {
          ...lease,
          status: 'failed',
          error: encodeError(codec, outcome.error),
          now: clock.now(),
        });
      } else if (outcome.status === 'cancelled') {
        // The store keeps the reason given to client.cancel; this error stands in only when none was.
        await finishAfter(store, recorder, {
          ...lease,
          status: 'cancelled',
          error: encodeError(codec, new FlowCancelledError(flow.id)),
          now: clock.now(),
        });
        await cancelChildren(store, codec, clock, flow.id);
      }
      return outcome;
    } catch (error) {
      // A step record the finish waited on was refused: the run stopped on it, not on the finish.
      if (error instanceof RecordRefusedError) return await abandon(error.cause);
      log.warn('could not record the flow outcome', { error: toError(error).message });
      return await abandon(error, true);
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
    const poisoned = poisonCause(flow, codec, options.maxAbandonedRuns ?? DEFAULT_MAX_ABANDONED_RUNS);
    if (poisoned) {
      log.error('flow failed: its runs were abandoned repeatedly for a cause no retry can fix', {
        error: poisoned.message,
        abandonedRuns: flow.abandonedRuns,
      });
      return await finish({ status: 'failed', error: poisoned });
    }
    // Stores write history only under a claim: a flow claimed for the first time has none to read.
    let fresh = flow.runCount === 1;
    // What the store holds of the flow's progress, carried from one activation to the next.
    let progress = flow.progress;
    for (;;) {
      const history = fresh ? [] : await store.getHistory(flow.id);
      fresh = false;
      // A flow recorded under a version this worker does not serve goes back, with the reason.
      const unserved = unservedVersion(flow, history, {
        served: options.versions,
        workerId: options.workerId,
      });
      if (unserved) return await abandon(await withLiveServers(store, unserved));
      if (lost) return { status: 'abandoned', error: lost };
      if (stopped) return { status: 'abandoned', error: new Error('worker stopping') };
      if (cancelled) return await finish({ status: 'cancelled' });
      // Fields named one by one: spreading the runner's options cost more than the rest of the set-up.
      const activation = new Activation({
        store,
        codec,
        clock,
        logger,
        durableBackoffMs: options.durableBackoffMs,
        flow,
        token,
        history,
        definition,
        traceContext,
        telemetry,
        progress,
      });
      current = activation;
      const outcome = await activation.start();
      // Progress reported before the end is durable before the flow finishes or suspends.
      const drained = outcome.kind === 'abandoned' ? undefined : activation.progressDrained();
      if (drained) await drained;
      progress = activation.storedProgress;
      const { recorder } = activation;
      switch (outcome.kind) {
        case 'completed': {
          let encoded: string;
          try {
            encoded = codec.encode(outcome.value, `result of flow ${flow.id}`);
          } catch (error) {
            return await finish({ status: 'failed', error: toError(error) }, undefined, recorder);
          }
          return await finish({ status: 'completed', result: outcome.value }, encoded, recorder);
        }
        case 'failed':
          return await finish({ status: 'failed', error: toError(outcome.error) }, undefined, recorder);
        case 'fatal':
          log.error('flow failed fatally', { error: outcome.error.message });
          return await finish({ status: 'failed', error: outcome.error }, undefined, recorder);
        case 'abandoned':
          // A failing store: steps still running saw their signal abort; give them a moment
          // before the flow is let go to another worker.
          if (!lost && !stopped) await settleOrTimeout(activation.attemptsSettled(), CANCEL_GRACE_MS);
          return await abandon(outcome.error);
        case 'cancelled':
          // Ends as soon as the aborted attempts settle; one that ignores its signal gets a grace period.
          await settleOrTimeout(activation.attemptsSettled(), CANCEL_GRACE_MS);
          return await finish({ status: 'cancelled' }, undefined, recorder);
        case 'blocked': {
          const suspended = await suspendAfter(store, recorder, {
            ...lease,
            waits: outcome.waits,
            now: clock.now(),
          });
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
    return await abandon(error instanceof RecordRefusedError ? error.cause : error);
  } finally {
    clearInterval(heartbeat);
    clearTimeout(early);
  }
}

/** Waits for `settled`, at most `ms`. */
async function settleOrTimeout(settled: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
