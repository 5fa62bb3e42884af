/**
 * A clock that moves only when told to, for deterministic tests of timers,
 * retries and leases.
 *
 * @module
 */
import type { Clock } from '@ergon/core';

interface Sleeper {
  readonly at: number;
  readonly resolve: () => void;
}

/** A {@link Clock} whose time advances only through {@link FakeClock.advance} or {@link FakeClock.set}. */
export class FakeClock implements Clock {
  #now: number;
  readonly #sleepers = new Set<Sleeper>();

  /** Starts at `start` (ms since epoch); default 2030-01-01T00:00:00Z. */
  constructor(start = Date.UTC(2030, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        at: this.#now + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#sleepers.delete(sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (sleeper.at <= this.#now) sleeper.resolve();
      else this.#sleepers.add(sleeper);
    });
  }

  /** Moves time forward by `ms` and wakes every sleeper now due. */
  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  /** Sets the time (never backwards) and wakes every sleeper now due. */
  set(time: number): void {
    if (time < this.#now) throw new Error(`FakeClock cannot go backwards (${time} < ${this.#now})`);
    this.#now = time;
    for (const sleeper of [...this.#sleepers].sort((a, b) => a.at - b.at)) {
      if (sleeper.at <= time) {
        this.#sleepers.delete(sleeper);
        sleeper.resolve();
      }
    }
  }

  /** How many sleeps are pending. */
  get pendingSleeps(): number {
    return this.#sleepers.size;
  }
}
