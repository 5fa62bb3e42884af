/**
 * One signal for two: a fetch ends on the connector's stop or on its
 * caller's signal.
 *
 * @module
 */

/** Signals that abort with either of two, made once per pair. */
export class EitherSignal {
  #last: { readonly a: AbortSignal; readonly b: AbortSignal; readonly signal: AbortSignal } | undefined;

  /**
   * A signal that aborts with `a` or `b`: the same one for the same pair (a
   * runner passes one signal to every fetch), not an `AbortSignal.any` each time.
   */
  of(a: AbortSignal, b: AbortSignal): AbortSignal {
    const last = this.#last;
    if (last?.a === a && last.b === b) return last.signal;
    const signal = AbortSignal.any([a, b]);
    this.#last = { a, b, signal };
    return signal;
  }
}
