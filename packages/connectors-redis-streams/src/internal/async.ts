/**
 * Small promise helpers: a deadline, and an abort that ends a wait.
 *
 * @module
 */

/**
 * `promise`, or a rejection after `ms`. One promise and one timer, no async
 * function or race: a read ahead takes two per batch, and V8 compiled the
 * async form late (tens of ms on a busy machine, inside a quick bench run).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** `promise`, or a rejection with the signal's reason once it aborts. */
export async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * {@link either} of the last two signals asked for, kept while the same two
 * come again (a runner passes one signal to every fetch: no controller and
 * listeners per fetch).
 */
export class EitherSignal {
  #a: AbortSignal | undefined;
  #b: AbortSignal | undefined;
  #either: ReturnType<typeof either> | undefined;

  /** A signal that aborts with `a` or `b`. */
  of(a: AbortSignal, b: AbortSignal | undefined): AbortSignal {
    if (this.#either && this.#a === a && this.#b === b) return this.#either.signal;
    this.dispose();
    this.#a = a;
    this.#b = b;
    this.#either = either(a, b);
    return this.#either.signal;
  }

  /** Removes the listeners of the kept signal. */
  dispose(): void {
    this.#either?.dispose();
    this.#either = this.#a = this.#b = undefined;
  }
}

/** A signal that aborts with either of two; `dispose` removes its listeners. */
export function either(
  a: AbortSignal,
  b: AbortSignal | undefined,
): { signal: AbortSignal; dispose: () => void } {
  if (!b) return { signal: a, dispose: () => undefined };
  const controller = new AbortController();
  const abort = () => controller.abort();
  a.addEventListener('abort', abort, { once: true });
  b.addEventListener('abort', abort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      a.removeEventListener('abort', abort);
      b.removeEventListener('abort', abort);
    },
  };
}
