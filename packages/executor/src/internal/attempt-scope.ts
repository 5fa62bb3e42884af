/**
 * The {@link StepScope} of one step attempt. Its `signal` is made only if the
 * step reads it: an `AbortController` (and a listener on the flow's signal)
 * per attempt would be a large share of a no-op step's cost.
 *
 * @module
 */
import { setMaxListeners } from 'node:events';
import type { StepScope } from '../definitions.js';
import type { FlowAbort } from './flow-abort.js';

/** One attempt's scope. Call {@link AttemptScope.release} once the attempt has settled. */
export class AttemptScope implements StepScope {
  readonly attempt: number;
  readonly flowId: string;
  readonly key: string;
  /** The flow's controller: its `signal` is made (by Node, on first read) only if a step needs it. */
  readonly #flow: FlowAbort;
  #controller: AbortController | undefined;
  #forward: (() => void) | undefined;
  #timedOut: Error | undefined;

  constructor(flow: FlowAbort, attempt: number, flowId: string, key: string) {
    this.#flow = flow;
    this.attempt = attempt;
    this.flowId = flowId;
    this.key = key;
  }

  /** `flowId/key`, stable across attempts and runs; made when read (most steps never do). */
  get idempotencyKey(): string {
    return `${this.flowId}/${this.key}`;
  }

  /** Fires on the attempt's timeout and on cancellation of the flow. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      const flowSignal = this.#flow.signal;
      this.#controller = controller;
      if (this.#timedOut) controller.abort(this.#timedOut);
      else if (flowSignal.aborted) controller.abort(flowSignal.reason);
      else {
        this.#forward = () => controller.abort(flowSignal.reason);
        // Every attempt running at once listens (a flow with many steps in parallel): that is no
        // leak, and each removes its listener when it settles, so Node's warning past 10 is noise.
        setMaxListeners(0, flowSignal);
        flowSignal.addEventListener('abort', this.#forward, { once: true });
      }
    }
    return this.#controller.signal;
  }

  /** The attempt ran out of time: its signal (made now or later) aborts with `error`. */
  timeOut(error: Error): void {
    this.#timedOut = error;
    this.#controller?.abort(error);
  }

  /** The attempt has settled: stop listening to the flow's signal. */
  release(): void {
    if (this.#forward) this.#flow.signal.removeEventListener('abort', this.#forward);
    this.#forward = undefined;
  }
}
