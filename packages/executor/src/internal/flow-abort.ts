/**
 * The abort signal of one activation, made only when read. Most activations
 * never hand their signal out (no step reads `scope.signal`, no flow code
 * reads `ctx.signal`), yet each one that suspends aborted it: an
 * `AbortSignal` made, an `Error` with its stack captured and an event
 * dispatched to no listener, a third of the engine's CPU for a flow that runs
 * a step and sleeps. A signal read after the abort is made aborted, with the
 * same reason from then on.
 *
 * @module
 */

/** An `AbortController` whose controller and signal are made at the first read of `signal`. */
export class FlowAbort {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  /** Makes the reason of an abort made before anyone read the signal ({@link FlowAbort.abortLazily}). */
  #makeReason: (() => Error) | undefined;

  /** True once aborted. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** The signal: made now if nobody read it yet, aborted already if the abort came first. */
  get signal(): AbortSignal {
    let controller = this.#controller;
    if (!controller) {
      controller = new AbortController();
      this.#controller = controller;
      if (this.#aborted) controller.abort(this.#reasonNow());
    }
    return controller.signal;
  }

  /** Aborts with `reason`: a signal already read fires now. Only the first abort counts. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }

  /** As {@link FlowAbort.abort}, with the reason made by `make` only if the signal is (or gets) read. */
  abortLazily(make: () => Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#makeReason = make;
    if (this.#controller) this.#controller.abort(this.#reasonNow());
  }

  #reasonNow(): unknown {
    const make = this.#makeReason;
    if (make) {
      this.#makeReason = undefined;
      this.#reason = make();
    }
    return this.#reason;
  }
}
