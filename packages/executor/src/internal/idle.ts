/**
 * A worker's sleep between claims: until it is woken (a store event, a run
 * that finished), the next due time the store reports, or the poll interval,
 * whichever is first; never a fixed 1 s poll. A wake that comes while the
 * worker is not asleep is kept for its next sleep, so none is lost.
 *
 * @module
 */
import { type Clock, type Logger, type RuntimeExecutionLog, systemClock, toError } from '@ergon/core';

/** The longest a worker waits between claims while due flows are held back by flow control. */
const BLOCKED_POLL_MAX_MS = 100;

/**
 * The reason an idle sleep is cut short. `abort()` without a reason builds a
 * DOMException (with a stack) on every call, even on an aborted signal, and
 * every finished flow wakes the loop.
 */
const WOKEN = Object.freeze({ woken: true });

/** What {@link IdleSleep} needs of its worker. */
export interface IdleSleepOptions {
  readonly store: RuntimeExecutionLog;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly queues: readonly string[];
  /** Longest sleep. */
  readonly maxIdleMs: number;
}

/** One worker's idle sleep and its wake-ups. */
export class IdleSleep {
  readonly #o: IdleSleepOptions;
  #wake: (() => void) | undefined;
  #pendingWake = false;
  #blocked = false;

  constructor(options: IdleSleepOptions) {
    this.#o = options;
  }

  /** Flows were due but the last claim took none: flow control holds them back. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Ends the current sleep, or the next one at once. */
  wake(): void {
    if (this.#wake) this.#wake();
    else this.#pendingWake = true;
  }

  /**
   * Sleeps until woken, the next due time of `types` (asked only when the worker has `room`
   * for more runs), or `pollMs`, whichever is first.
   */
  async sleep(stopping: AbortSignal, pollMs: number, types: string[], room: boolean): Promise<void> {
    if (this.#pendingWake) {
      this.#pendingWake = false;
      return;
    }
    const { store, clock, logger, queues, maxIdleMs } = this.#o;
    let timeout = pollMs;
    if (room) {
      try {
        const next = await store.nextWakeAt({ types, queues });
        const wait = next === undefined ? undefined : next - clock.now();
        // Due already yet not claimed: a queue's limits hold it back (or another worker took it).
        // Back off, capped so that an opened rate window or a freed slot is seen soon.
        this.#blocked = wait !== undefined && wait <= 0;
        if (wait !== undefined) timeout = Math.min(timeout, wait > 0 ? wait : BLOCKED_POLL_MAX_MS);
      } catch (error) {
        logger.warn('nextWakeAt failed', { error: toError(error).message });
      }
    }
    if (this.#pendingWake || stopping.aborted) {
      this.#pendingWake = false;
      return;
    }
    if (clock === systemClock) return this.#sleepReal(timeout);
    const wake = new AbortController();
    this.#wake = () => {
      this.#wake = undefined;
      wake.abort(WOKEN);
    };
    let cap: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        clock.sleep(timeout, wake.signal).catch(() => {}),
        // The fake clock never advances by itself; a real-time cap keeps tests live.
        new Promise<void>((resolve) => {
          cap = setTimeout(resolve, Math.max(timeout, maxIdleMs));
          cap.unref();
        }),
      ]);
    } finally {
      clearTimeout(cap);
      this.#wake = undefined;
      wake.abort(WOKEN);
      this.#pendingWake = false;
    }
  }

  /**
   * The sleep on the real clock: one timer, cleared by a wake. (An aborted `timers/promises`
   * sleep builds an `AbortError` with its stack, and a busy worker at concurrency 1 sleeps and is
   * woken once per flow.)
   */
  async #sleepReal(timeout: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, timeout);
      this.#wake = () => {
        this.#wake = undefined;
        clearTimeout(timer);
        resolve();
      };
    });
    this.#pendingWake = false;
  }
}
