/**
 * One run of a claimed flow under its lease: activations until the flow
 * completes, fails, suspends or is cancelled, and the final write; the
 * worker's stop and cancel and the lease keeper's renewals reach it through its
 * methods. A run stopped by a failing store call goes through the poison rule
 * (`abandon.ts`).
 *
 * @module
 */

import {
  type ClaimedFlow,
  type FinishResult,
  type FlowRecord,
  LeaseLostError,
  type Logger,
  type OperationRecord,
  toError,
} from '@ergon/core';
import type { Context } from '@opentelemetry/api';
import { FlowCancelledError, UnknownFlowTypeError } from '../errors.js';
import { DEFAULT_MAX_ABANDONED_RUNS, giveUp, poisonCause } from './abandon.js';
import { Activation } from './activation.js';
import { cancelChildren } from './cancel.js';
import { encodeError } from './encode-error.js';
import { finishAfter, RecordRefusedError, suspendAfter } from './last-write.js';
import type { LeaseHolder } from './lease-keeper.js';
import type { Recorder } from './recorder.js';
import type { RunControl, RunListener, RunOutcome } from './run-control.js';
import type { RunnerOptions } from './runner.js';
import type { TelemetryState } from './telemetry.js';
import { unservedVersion, withLiveServers } from './versions.js';

/** The history of a flow claimed for the first time. */
const NO_HISTORY: readonly OperationRecord[] = Object.freeze([]);

/** How long a cancelled run waits for attempts that ignore their aborted signal. */
const CANCEL_GRACE_MS = 1000;

/**
 * One run of a claimed flow. A class rather than closures over the run's state: a run is made
 * per flow, and its hooks (the worker's stop and cancel, the lease keeper's renewal) are its
 * methods instead of functions made for each.
 */
export class Run implements LeaseHolder, RunListener {
  readonly #o: RunnerOptions;
  readonly #flow: FlowRecord;
  readonly #token: number;
  readonly #traceContext: Context;
  readonly #telemetry: TelemetryState;
  readonly #control: RunControl | undefined;
  #current: Activation | undefined;
  #cancelled: boolean;
  #stopped = false;
  #lost: Error | undefined;
  /** One renewal at a time: a tick while the last is still out (a slow or reconnecting store) is skipped. */
  #renewing = false;
  #log: Logger | undefined;

  constructor(
    options: RunnerOptions,
    claimed: ClaimedFlow,
    traceContext: Context,
    telemetry: TelemetryState,
    control: RunControl | undefined,
  ) {
    this.#o = options;
    this.#flow = claimed.flow;
    this.#token = claimed.token;
    this.#traceContext = traceContext;
    this.#telemetry = telemetry;
    this.#control = control;
    this.#cancelled = claimed.flow.cancelRequested || control?.cancelRequested === true;
  }

  /** The run's logger, made when it first logs: most runs never do. */
  get #logger(): Logger {
    const flow = this.#flow;
    this.#log ??= this.#o.logger.child({ flowId: flow.id, flowType: flow.type, workerId: this.#o.workerId });
    return this.#log;
  }

  /** The flow's cancellation was requested: the activation stops, and the run finishes it cancelled. */
  cancel(): void {
    this.#cancelled = true;
    this.#current?.cancel('cancellation requested');
  }

  /** The worker is stopping: the run is abandoned. */
  stop(): void {
    this.#stopped = true;
    this.#current?.abandon(new Error('worker stopping'));
  }

  renewLease(): void {
    if (this.#renewing) return;
    this.#renewing = true;
    const { store, leaseMs, clock } = this.#o;
    store
      .renewLease({ flowId: this.#flow.id, token: this.#token, leaseMs, now: clock.now() })
      .then(
        (renewed) => {
          if (renewed.cancelRequested) this.cancel();
        },
        (error: unknown) => {
          if (error instanceof LeaseLostError) {
            this.#lost = error;
            this.#current?.abandon(error);
          } else {
            this.#logger.warn('lease renewal failed; will retry', { error: toError(error).message });
          }
        },
      )
      .finally(() => {
        this.#renewing = false;
      });
  }

  /**
   * Activations until the flow leaves this worker: its outcome, which the control hears first.
   * One async function for the whole run (each layer more is a frame and a promise per flow).
   * `now` is the clock's time when the flow was claimed, read once for all of a claim's flows
   * (they start in the same turn); without it the clock is read here.
   */
  async drive(now?: number): Promise<RunOutcome> {
    const { leases, heartbeatMs, store, codec, clock, logger, flows } = this.#o;
    this.#control?.listen(this);
    leases.hold(this);
    // A lease shorter than the heartbeat allows for (a hand-off's) is renewed by half its time left.
    const left = (this.#flow.leaseExpiresAt ?? Number.POSITIVE_INFINITY) - (now ?? clock.now());
    const early =
      left / 2 < heartbeatMs ? setTimeout(() => this.renewLease(), Math.max(1, left / 2)) : undefined;
    early?.unref();
    // Every way out awaits its last write inside the try, so renewals go on until it is done.
    try {
      const flow = this.#flow;
      const token = this.#token;
      const definition = flows.get(flow.type);
      if (!definition) {
        return this.#done(
          await this.#finish({
            status: 'failed',
            error: new UnknownFlowTypeError(flow.type, [...flows.keys()]),
          }),
        );
      }
      const poisoned = poisonCause(flow, codec, this.#o.maxAbandonedRuns ?? DEFAULT_MAX_ABANDONED_RUNS);
      if (poisoned) {
        this.#logger.error('flow failed: its runs were abandoned repeatedly for a cause no retry can fix', {
          error: poisoned.message,
          abandonedRuns: flow.abandonedRuns,
        });
        return this.#done(await this.#finish({ status: 'failed', error: poisoned }));
      }
      // Stores write history only under a claim: a flow claimed for the first time has none to read.
      let fresh = flow.runCount === 1;
      // What the store holds of the flow's progress, carried from one activation to the next.
      let progress = flow.progress;
      for (;;) {
        const history = fresh ? NO_HISTORY : await store.getHistory(flow.id);
        fresh = false;
        // A flow recorded under a version this worker does not serve goes back, with the reason.
        const unserved =
          this.#o.versions?.get(flow.type) === undefined
            ? undefined
            : unservedVersion(flow, history, { served: this.#o.versions, workerId: this.#o.workerId });
        if (unserved) return this.#done(await this.#abandon(await withLiveServers(store, unserved)));
        if (this.#lost) return this.#done({ status: 'abandoned', error: this.#lost });
        if (this.#stopped) return this.#done({ status: 'abandoned', error: new Error('worker stopping') });
        if (this.#cancelled) return this.#done(await this.#finish({ status: 'cancelled' }));
        // Fields named one by one: spreading the runner's options cost more than the rest of the set-up.
        const activation = new Activation({
          store,
          codec,
          clock,
          logger,
          durableBackoffMs: this.#o.durableBackoffMs,
          flow,
          token,
          history,
          definition,
          traceContext: this.#traceContext,
          telemetry: this.#telemetry,
          progress,
        });
        this.#current = activation;
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
              // A flow that returns its last step's result (a primitive) has it encoded already.
              encoded =
                recorder.encodedBefore(outcome.value) ??
                codec.encode(outcome.value, `result of flow ${flow.id}`);
            } catch (error) {
              return this.#done(
                await this.#finish({ status: 'failed', error: toError(error) }, undefined, recorder),
              );
            }
            // The path of every completed flow, written out: no frame of #finish's own.
            const completed: RunOutcome = { status: 'completed', result: outcome.value };
            try {
              const value = await this.#finishWrite(completed, encoded, recorder);
              this.#control?.finished(value as FinishResult | undefined);
            } catch (error) {
              this.#control?.finished(undefined);
              return this.#done(await this.#finishFailed(error));
            }
            return this.#done(completed);
          }
          case 'failed':
            return this.#done(
              await this.#finish({ status: 'failed', error: toError(outcome.error) }, undefined, recorder),
            );
          case 'fatal':
            this.#logger.error('flow failed fatally', { error: outcome.error.message });
            return this.#done(
              await this.#finish({ status: 'failed', error: outcome.error }, undefined, recorder),
            );
          case 'abandoned':
            // A failing store: steps still running saw their signal abort; give them a moment
            // before the flow is let go to another worker.
            if (!this.#lost && !this.#stopped)
              await settleOrTimeout(activation.attemptsSettled(), CANCEL_GRACE_MS);
            return this.#done(await this.#abandon(outcome.error));
          case 'cancelled':
            // Ends as soon as the aborted attempts settle; one that ignores its signal gets a grace period.
            await settleOrTimeout(activation.attemptsSettled(), CANCEL_GRACE_MS);
            return this.#done(await this.#finish({ status: 'cancelled' }, undefined, recorder));
          case 'blocked': {
            const suspended = await suspendAfter(store, recorder, {
              flowId: flow.id,
              token,
              waits: outcome.waits,
              now: clock.now(),
            });
            if (suspended.outcome === 'suspended')
              return this.#done({ status: 'suspended', waits: outcome.waits });
            if (suspended.outcome === 'cancelled') {
              await cancelChildren(store, codec, clock, flow.id);
              return this.#done({ status: 'cancelled' });
            }
            break; // ready: a wait resolved meanwhile; run again under the same lease
          }
        }
      }
    } catch (error) {
      return this.#done(await this.#abandon(error instanceof RecordRefusedError ? error.cause : error));
    } finally {
      leases.drop(this);
      clearTimeout(early);
    }
  }

  /** The run leaves this worker with `outcome`: its control hears it. */
  #done(outcome: RunOutcome): RunOutcome {
    this.#control?.ended(outcome);
    return outcome;
  }

  /** The poison rule for a run stopped by `error` (see `abandon.ts`). */
  async #abandon(error: unknown, finishFailed = false): Promise<RunOutcome> {
    if (this.#lost) return { status: 'abandoned', error: this.#lost };
    if (this.#stopped) return { status: 'abandoned', error: new Error('worker stopping') };
    const { store, codec, clock } = this.#o;
    const flow = this.#flow;
    const lease = { flowId: flow.id, token: this.#token };
    const given = await giveUp({ store, codec, clock, log: this.#logger, lease, flow }, error, finishFailed);
    return { status: given.status, error: given.error };
  }

  /** Records the outcome; `encoded` is a completed flow's result, when already encoded. */
  async #finish(outcome: RunOutcome, encoded?: string, recorder?: Recorder): Promise<RunOutcome> {
    try {
      const value = await this.#finishWrite(outcome, encoded, recorder);
      this.#control?.finished(value as FinishResult | undefined);
      return outcome;
    } catch (error) {
      this.#control?.finished(undefined);
      return this.#finishFailed(error);
    }
  }

  /** The write that records `outcome` (after the records `recorder` deferred). */
  #finishWrite(
    outcome: RunOutcome,
    encoded: string | undefined,
    recorder: Recorder | undefined,
  ): Promise<unknown> {
    const { store, codec, clock } = this.#o;
    const flowId = this.#flow.id;
    const token = this.#token;
    // Nothing of the flow runs after a completed or failed finish: its slot may serve the next,
    // claimed by the finish itself when the worker asks (`next`).
    const next =
      outcome.status === 'completed' || outcome.status === 'failed' ? this.#control?.ending() : undefined;
    // One literal per status, no spreads: this is on the path of every flow.
    if (outcome.status === 'completed') {
      const result = encoded ?? codec.encode(outcome.result);
      return finishAfter(store, recorder, {
        flowId,
        token,
        status: 'completed',
        result,
        now: clock.now(),
        next,
      });
    }
    if (outcome.status === 'failed') {
      const error = encodeError(codec, outcome.error);
      return finishAfter(store, recorder, { flowId, token, status: 'failed', error, now: clock.now(), next });
    }
    if (outcome.status === 'cancelled') {
      // The store keeps the reason given to client.cancel; this error stands in only when none was.
      const error = encodeError(codec, new FlowCancelledError(flowId));
      return finishAfter(store, recorder, {
        flowId,
        token,
        status: 'cancelled',
        error,
        now: clock.now(),
      }).then(() => cancelChildren(store, codec, clock, flowId));
    }
    return Promise.resolve();
  }

  /** The finish was not recorded: the run stops on why (see `abandon.ts`). */
  #finishFailed(error: unknown): Promise<RunOutcome> {
    // A step record the finish waited on was refused: the run stopped on it, not on the finish.
    if (error instanceof RecordRefusedError) return this.#abandon(error.cause);
    this.#logger.warn('could not record the flow outcome', { error: toError(error).message });
    return this.#abandon(error, true);
  }
}

/** Waits for `settled`, at most `ms`. */
async function settleOrTimeout(settled: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
