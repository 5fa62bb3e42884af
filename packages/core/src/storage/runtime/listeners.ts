/**
 * Store event subscriptions of the runtime wrapper: each listener isolated (one
 * that throws is logged and never reaches the store, the other listeners or the
 * process), and every one ended when the wrapper closes.
 *
 * @module
 */
import { ErgonError, ErrorCode } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { ExecutionLog, StoreListener } from '../execution-log.js';

/** The subscriptions made through one wrapper. */
export class Listeners {
  readonly #inner: ExecutionLog;
  readonly #logger: Logger;
  readonly #unsubscribers = new Set<() => void>();
  #closed = false;

  constructor(inner: ExecutionLog, logger: Logger) {
    this.#inner = inner;
    this.#logger = logger;
  }

  /** Subscribes `listener` to the store's events; returns its unsubscribe function. */
  subscribe(listener: StoreListener): () => void {
    if (typeof listener !== 'function')
      throw new ErgonError(ErrorCode.INVALID_ARGUMENT, 'subscribe needs a listener function');
    if (this.#closed || !this.#inner.subscribe) return () => {};
    const stop = this.#inner.subscribe((event) => {
      try {
        listener(event);
      } catch (error) {
        this.#logger.warn('a store event listener threw; the event is dropped for it alone', {
          event: event.type,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    });
    let active = true;
    const unsubscribe = () => {
      if (!active) return;
      active = false;
      this.#unsubscribers.delete(unsubscribe);
      stop();
    };
    this.#unsubscribers.add(unsubscribe);
    return unsubscribe;
  }

  /** Ends every subscription; later ones get a no-op. */
  close(): void {
    this.#closed = true;
    for (const unsubscribe of [...this.#unsubscribers]) unsubscribe();
  }
}
