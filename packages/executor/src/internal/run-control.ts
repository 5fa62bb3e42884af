/**
 * A run of a claimed flow as its worker sees it: how it ended
 * ({@link RunOutcome}), and how the worker steers it from outside
 * ({@link RunControl}) while `runner.ts` drives it.
 *
 * @module
 */
import type { Wait } from '@ergon/core';

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

/**
 * How a worker steers a run from outside: abandon it (its stop() ran out of
 * time) or cancel it (a `cancel-requested` store event). Plain callbacks
 * rather than an `AbortSignal`: an `AbortController`, its signal and a
 * listener added and removed per run cost about 4.5 µs on Node 20, a visible
 * share of a one-step flow.
 */
export class RunControl {
  #stopRequested = false;
  #cancelRequested = false;
  #listener: RunListener | undefined;
  #onEnding: (() => void) | undefined;

  /** True once {@link RunControl.stop} was called. */
  get stopRequested(): boolean {
    return this.#stopRequested;
  }

  /** True once {@link RunControl.cancel} was called. */
  get cancelRequested(): boolean {
    return this.#cancelRequested;
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
  ending(): void {
    const hook = this.#onEnding;
    this.#onEnding = undefined;
    hook?.();
  }

  /** Sets what {@link RunControl.ending} calls (the worker's hook). */
  onEnding(hook: () => void): void {
    this.#onEnding = hook;
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
