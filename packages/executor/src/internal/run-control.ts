/**
 * A run of a claimed flow as its worker sees it: how it ended
 * ({@link RunOutcome}), and how the worker steers it from outside
 * ({@link RunControl}) while `runner.ts` drives it.
 *
 * @module
 */
import type { ClaimedFlow, FinishResult, NextClaim, Wait } from '@ergon/core';

/** How one run of a claimed flow ended. */
export type RunOutcome =
  | {
      /** The flow completed. */
      readonly status: 'completed';
      /** Its result. */
      readonly result: unknown;
    }
  | {
      /** The flow failed. */
      readonly status: 'failed';
      /** The error it failed with. */
      readonly error: Error;
    }
  | {
      /** The flow suspended; this worker no longer holds it. */
      readonly status: 'suspended';
      /** What it waits for. */
      readonly waits: readonly Wait[];
    }
  | {
      /** The flow was cancelled. */
      readonly status: 'cancelled';
    }
  /**
   * The run stopped without an outcome: the lease was lost, the worker is stopping, or the
   * store failed transiently (the flow is retried later, its record says why).
   */
  | {
      /** The run was abandoned; the flow resumes later, here or elsewhere. */
      readonly status: 'abandoned';
      /** Why (`LEASE_LOST`, a `STORE_*` error, a stop). */
      readonly error: Error;
    };

/** What a {@link RunControl} tells the worker that made it. */
export interface RunOwner {
  /**
   * The run's code is over and only its finish is in flight (told at most once). The answer, if
   * any, is the claim the finish makes for the worker's next flows (`FinishRequest.next`); its
   * flows are then handed to {@link RunOwner.nextClaimed}, once.
   */
  runEnding(control: RunControl): NextClaim | undefined;
  /**
   * The finish that carried `next` was answered: `claimed` holds the flows its claim took, or is
   * undefined when the finish failed or the store made no claim. Must not throw.
   */
  nextClaimed(control: RunControl, next: NextClaim, claimed: ClaimedFlow[] | undefined): void;
  /** The run left this worker with `outcome`. Must not throw. */
  runEnded(control: RunControl, outcome: RunOutcome): void;
}

/**
 * A run as its worker holds it: the worker steers it from outside (abandon it when stop() ran
 * out of time, cancel it on a `cancel-requested` store event), and the run tells the worker when
 * its code is over and when it ended. Plain calls rather than an `AbortSignal` and promise
 * callbacks: an `AbortController`, its signal and a listener added and removed per run cost
 * about 4.5 µs on Node 20, a visible share of a one-step flow, and a closure per hook is
 * allocated for every flow.
 */
export class RunControl {
  /** The flow the run holds. */
  readonly flowId: string;
  /** The run's fencing token. */
  readonly token: number;
  /** The run's promise, once started (`runClaimed`): what a stopping worker waits for. */
  settled: Promise<RunOutcome> | undefined;
  readonly #owner: RunOwner | undefined;
  #stopRequested = false;
  #cancelRequested = false;
  #ending = false;
  /** When the finish carrying a next claim was made (`performance.now()`): the claim's lease runs from about then. */
  endedAt = 0;
  /** The claim the finish carries, until its answer is heard. */
  #next: NextClaim | undefined;
  #ended = false;
  #listener: RunListener | undefined;

  constructor(lease: { readonly flowId: string; readonly token: number }, owner?: RunOwner) {
    this.flowId = lease.flowId;
    this.token = lease.token;
    this.#owner = owner;
  }

  /** True once {@link RunControl.stop} was called. */
  get stopRequested(): boolean {
    return this.#stopRequested;
  }

  /** True once {@link RunControl.cancel} was called. */
  get cancelRequested(): boolean {
    return this.#cancelRequested;
  }

  /** True once the run said its code is over ({@link RunControl.ending}). */
  get isEnding(): boolean {
    return this.#ending;
  }

  /** Abandons the run (its lease is released by the worker). */
  stop(): void {
    if (this.#stopRequested) return;
    this.#stopRequested = true;
    this.#listener?.stop();
  }

  /** The flow's cancellation was requested: the run stops at once and finishes it as cancelled. */
  cancel(): void {
    if (this.#cancelRequested) return;
    this.#cancelRequested = true;
    this.#listener?.cancel();
  }

  /**
   * Called by the runner when the flow's code is over and only its finish is in flight: the
   * worker may count its slot free and claim the next flow now, so the claim travels with the
   * finish (one round trip on a pipelining store) instead of after it.
   */
  ending(): NextClaim | undefined {
    if (this.#ending) return undefined;
    this.#ending = true;
    this.#next = this.#owner?.runEnding(this);
    if (this.#next !== undefined) this.endedAt = performance.now();
    return this.#next;
  }

  /**
   * Called by the runner once the finish that may carry the {@link RunControl.ending} claim was
   * answered (`value`: its result) or failed (undefined): the claimed flows go to the worker.
   */
  finished(value: FinishResult | undefined): void {
    const next = this.#next;
    if (next === undefined) return;
    this.#next = undefined;
    this.#owner?.nextClaimed(this, next, value?.claimed);
  }

  /** Called by the runner when the run left this worker with `outcome` (heard once). */
  ended(outcome: RunOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#owner?.runEnded(this, outcome);
  }

  /** Sets who {@link RunControl.stop} and {@link RunControl.cancel} tell (the run). */
  listen(listener: RunListener): void {
    this.#listener = listener;
  }
}

/** What a {@link RunControl} tells the run it steers. */
export interface RunListener {
  /** The worker stops: abandon the run. */
  stop(): void;
  /** The flow's cancellation was requested. */
  cancel(): void;
}
