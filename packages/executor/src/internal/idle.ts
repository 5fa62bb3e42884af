/**
 * A worker's sleep between claims: until it is woken (a store event, a run
 * that finished), the next due time the store reports, or the poll interval,
 * whichever is first; never a fixed 1 s poll. A wake that comes while the
 * worker is not asleep is kept for its next sleep, so none is lost.
 *
 * @module
 */
import { type Clock, type Logger, type RuntimeExecutionLog, systemClock, toError } from '@ergon/core';

/**
 * How long a worker waits between claims while due flows are not claimed (flow control holds
 * them back, or they became due just after its claim): from the first, doubling up to the last.
 */
const BLOCKED_POLL_MIN_MS = 2;
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
  /** The wait of the current run of blocked sleeps (0: not blocked). */
  #blockedMs = 0;

  constructor(options: IdleSleepOptions) {
    this.#o = options;
  }

  /** Flows were due but the last claim took none: flow control holds them back. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** The last claim took flows: a later blocked sleep starts its backoff again from the first wait. */
  claimed(): void {
    this.#blockedMs = 0;
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
        // Due already yet not claimed: a queue's limits hold it back, another worker took it, or
        // it became due just after the claim. Back off from a few ms (the last case is over at the
        // next claim), capped so that an opened rate window or a freed slot is seen soon.
        this.#blocked = wait !== undefined && wait <= 0;
        this.#blockedMs = this.#blocked
          ? Math.min(Math.max(this.#blockedMs * 2, BLOCKED_POLL_MIN_MS), BLOCKED_POLL_MAX_MS)
          : 0;
        if (wait !== undefined) timeout = Math.min(timeout, wait > 0 ? wait : this.#blockedMs);
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
