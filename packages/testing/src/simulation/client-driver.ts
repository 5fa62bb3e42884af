/**
 * The simulated application: sends the workload's schedules, signals and
 * cancels through the engine's client one at a time, in timeline order, and
 * retries a call the store could not answer (as an application would),
 * waiting on the simulated clock between tries. A flow the workload has the
 * client run itself (`execute`) runs beside the queue, as a request handler
 * would: the actions after it do not wait for it.
 *
 * @module
 */
import { ErrorCode } from '@ergon/core';
import type { SimClient } from './engine.js';
import type { SimClock } from './sim-clock.js';
import { errorCode } from './trace.js';
import { Invariant, type Violation } from './violations.js';
import type { SimAction } from './workload.js';

/** A client action of the timeline. */
export type ClientAction = Extract<SimAction, { kind: 'schedule' | 'signal' | 'cancel' }>;

const MAX_TRIES = 200;

/** Runs client actions in order; never throws (a failure is reported as a violation). */
export class ClientDriver {
  readonly #client: SimClient;
  readonly #clock: SimClock;
  readonly #report: (violation: Violation) => void;
  readonly #queue: ClientAction[] = [];
  #busy = false;
  /** Flows being run by the client itself (`execute`). */
  readonly #executing = new Set<string>();

  constructor(client: SimClient, clock: SimClock, report: (violation: Violation) => void) {
    this.#client = client;
    this.#clock = clock;
    this.#report = report;
  }

  /** True when every queued action is done. */
  get idle(): boolean {
    return !this.#busy && this.#queue.length === 0 && this.#executing.size === 0;
  }

  /** Queues an action; it runs after the ones before it. */
  push(action: ClientAction): void {
    this.#queue.push(action);
    if (!this.#busy) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    for (let action = this.#queue.shift(); action; action = this.#queue.shift()) {
      if (action.kind === 'schedule' && action.execute && this.#client.execute) {
        const { flowId } = action;
        this.#executing.add(flowId);
        void this.#perform(action).finally(() => this.#executing.delete(flowId));
      } else {
        await this.#perform(action);
      }
    }
    this.#busy = false;
  }

  async #perform(action: ClientAction): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (action.kind === 'schedule' && action.execute && this.#client.execute)
          await this.#client.execute(action.flowId, action.script);
        else if (action.kind === 'schedule') await this.#client.schedule(action.flowId, action.script);
        else if (action.kind === 'signal')
          await this.#client.signal(action.flowId, action.name, action.payload);
        else await this.#client.cancel(action.flowId);
        return;
      } catch (error) {
        const code = errorCode(error);
        // A signal to a flow that already finished is refused, as it should be.
        if (action.kind === 'signal' && code === ErrorCode.FLOW_FINISHED) return;
        // The client's own run of the flow has not created it yet (its create is being retried):
        // an application would try again, as for an unanswered call.
        const notYet = code === ErrorCode.FLOW_NOT_FOUND && this.#executing.has(action.flowId);
        if ((code !== ErrorCode.STORE_UNAVAILABLE && !notYet) || attempt >= MAX_TRIES) {
          this.#report({
            invariant: Invariant.RUN,
            flowId: action.flowId,
            detail: `the client's ${action.kind} failed with ${code} after ${attempt} tries`,
          });
          return;
        }
        await this.#clock.sleep(100 * Math.min(attempt, 10));
      }
    }
  }
}
