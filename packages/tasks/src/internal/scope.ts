/**
 * Cancellation scopes: the runner's tree of run → transaction → attempt,
 * each ending on its own timeout or when its parent ends.
 *
 * Every transaction and every attempt has a scope, so they must be cheap:
 * a parent ends its children through a plain set of children, not through
 * `abort` listeners on a shared `AbortSignal` (a hundred transactions in
 * flight were a hundred listeners on the run's signal, and a
 * `MaxListenersExceededWarning`), and a scope makes its `AbortSignal` only
 * when code asks for it (most no-op or fast work never does; an
 * `AbortController` costs more than the rest of a scope together).
 *
 * @module
 */
import { toError } from '@ergon/core';

/** Told when the scope it watches ends (see {@link CancelScope.watch}). */
export interface ScopeWatcher {
  /**
   * The scope ended with `reason` while watched. Called from inside the
   * abort, before the scope's children end: defer any real work.
   */
  scopeEnded(reason: Error): void;
}

/** A cancellation scope; see the module comment. */
export class CancelScope {
  #reason: Error | undefined;
  #controller: AbortController | undefined;
  // Children form a doubly linked list through their sibling fields: O(1) link and unlink, no hashing.
  #firstChild: CancelScope | undefined;
  #previous: CancelScope | undefined;
  #next: CancelScope | undefined;
  #parent: CancelScope | undefined;
  #timer: NodeJS.Timeout | undefined;
  #racer: ((reason: Error) => void) | undefined;
  #watcher: ScopeWatcher | undefined;

  /**
   * A root scope that ends when `signal` aborts (one listener, for the
   * scope's whole life); `dispose` removes the listener.
   */
  static fromSignal(signal: AbortSignal): { readonly scope: CancelScope; dispose(): void } {
    const scope = new CancelScope();
    if (signal.aborted) {
      scope.abort(signal.reason);
      return { scope, dispose: () => undefined };
    }
    const onAbort = () => scope.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    return { scope, dispose: () => signal.removeEventListener('abort', onAbort) };
  }

  /** True once the scope ended (its own timeout, an abort, or its parent's end). */
  get aborted(): boolean {
    return this.#reason !== undefined;
  }

  /** Why it ended; undefined while it has not. */
  get reason(): Error | undefined {
    return this.#reason;
  }

  /** An `AbortSignal` that fires when the scope ends (made on first use, aborted at once if it ended already). */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /**
   * A scope that ends with this one, or after `timeoutMs` with
   * `timeoutReason()` (never when `timeoutMs` is undefined). Dispose it when
   * its work is over: it is then unlinked and its timer cleared.
   */
  child(timeoutMs?: number, timeoutReason?: () => Error): CancelScope {
    const child = new CancelScope();
    if (this.#reason) {
      child.abort(this.#reason);
      return child;
    }
    child.#parent = this;
    child.#next = this.#firstChild;
    if (this.#firstChild) this.#firstChild.#previous = child;
    this.#firstChild = child;
    if (timeoutMs !== undefined) {
      child.#timer = setTimeout(
        () => child.abort(timeoutReason?.() ?? new Error(`timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    }
    return child;
  }

  /** Ends the scope and every scope below it with `reason`. Idempotent: the first reason stays. */
  abort(reason: unknown): void {
    if (this.#reason) return;
    const error = toError(reason ?? new Error('aborted'));
    this.#reason = error;
    this.dispose();
    this.#controller?.abort(error);
    const racer = this.#racer;
    this.#racer = undefined;
    racer?.(error);
    const watcher = this.#watcher;
    this.#watcher = undefined;
    watcher?.scopeEnded(error);
    for (let child = this.#firstChild; child; child = this.#firstChild) {
      child.dispose(); // unlinks it: the loop always moves on
      child.abort(error);
    }
  }

  /** Unlinks the scope from its parent and clears its timer; it no longer ends with them. */
  dispose(): void {
    // Most scopes have no timer: clearTimeout(undefined) still cost 2 % of a no-op transaction.
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const parent = this.#parent;
    if (!parent) return;
    if (this.#previous) this.#previous.#next = this.#next;
    else parent.#firstChild = this.#next;
    if (this.#next) this.#next.#previous = this.#previous;
    this.#parent = this.#previous = this.#next = undefined;
  }

  /**
   * Tells `watcher` when the scope ends, until {@link unwatch}: a race
   * without a promise of its own, for a caller that reacts to the work's
   * promise itself. One watcher (and one race) at a time per scope.
   *
   * @returns false, keeping no watcher, when the scope has ended already.
   */
  watch(watcher: ScopeWatcher): boolean {
    if (this.#reason) return false;
    this.#watcher = watcher;
    return true;
  }

  /** Stops telling `watcher` (the work answered first). */
  unwatch(watcher: ScopeWatcher): void {
    if (this.#watcher === watcher) this.#watcher = undefined;
  }

  /**
   * {@link race} and a `then` in one promise: resolves with `onValue(value)`
   * when `work` succeeds first, with `onError(error)` when it fails or the
   * scope ends first (a throw from either callback rejects). The abandoned
   * work's late failure is swallowed. One race at a time per scope.
   */
  raceTo<T, R>(
    work: Promise<T>,
    onValue: (value: T) => R,
    onError: (error: Error) => R | PromiseLike<R>,
  ): Promise<R> {
    const ended = this.#reason;
    if (ended) {
      work.catch(() => undefined);
      return Promise.resolve(ended).then(onError);
    }
    return new Promise<R>((resolve, reject) => {
      // Made outside this executor (see endRaceWith): a racer made here, kept on a long-lived
      // scope, made V8 keep what every race resolved with through the next young-generation GC.
      this.#racer = endRaceWith(resolve, reject, onError);
      work.then(
        (value) => {
          this.#racer = undefined;
          try {
            resolve(onValue(value));
          } catch (error) {
            reject(error);
          }
        },
        (error: unknown) => {
          this.#racer = undefined;
          try {
            resolve(onError(toError(error)));
          } catch (thrown) {
            reject(thrown);
          }
        },
      );
    });
  }

  /**
   * Settles with `work`, or rejects with the scope's reason as soon as it
   * ends. The abandoned work keeps running (JavaScript cannot stop it) but
   * its late failure is swallowed, so it never becomes an unhandled
   * rejection. One race at a time per scope.
   */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.#reason) {
      work.catch(() => undefined);
      return Promise.reject(this.#reason);
    }
    return new Promise<T>((resolve, reject) => {
      this.#racer = reject;
      work.then(
        (value) => {
          this.#racer = undefined;
          resolve(value);
        },
        (error: unknown) => {
          this.#racer = undefined;
          reject(toError(error));
        },
      );
    });
  }
}

/**
 * What a race does when its scope ends first: settle with `onError(reason)`.
 *
 * A closure made inside the race's promise executor shares that executor's
 * context (the work, both callbacks, the resolving functions) with the
 * work's reactions. Stored on the run's stopping scope, which lives in the
 * old generation, such a racer made V8 promote every batch that a consumer
 * loop's fetches resolved with: about 7 % of everything allocated survived
 * each young-generation GC (1.1 of 16 MB; 35 KB with this function), and
 * a no-op Redis Streams consumer spent ~0.8 µs more CPU per message
 * (`packages/connectors-redis-streams/bench/profile.mjs` under
 * `--trace-gc-nvp`, `new_space_survived`).
 */
function endRaceWith<R>(
  resolve: (value: R | PromiseLike<R>) => void,
  reject: (error: unknown) => void,
  onError: (error: Error) => R | PromiseLike<R>,
): (reason: Error) => void {
  return (reason) => {
    try {
      resolve(onError(reason));
    } catch (error) {
      reject(error);
    }
  };
}
