/**
 * The simulation's clock: like `FakeClock`, time moves only when the runner
 * says so, and it also tells the runner when the next sleeper is due, so the
 * runner can jump straight there once the system has nothing else to do.
 *
 * @module
 */
import type { Clock } from '@ergon/core';

interface Sleeper {
  readonly at: number;
  /** Order of creation: equal deadlines wake in the order they were asked for. */
  readonly order: number;
  readonly wake: () => void;
}

/** A {@link Clock} driven by the simulation runner. */
export class SimClock implements Clock {
  #now: number;
  #order = 0;
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
    const at = this.#now + Math.max(0, Number.isFinite(ms) ? ms : 0);
    if (at <= this.#now) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#sleepers.delete(sleeper);
        reject(signal?.reason);
      };
      const sleeper: Sleeper = {
        at,
        order: this.#order++,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.add(sleeper);
    });
  }

  /** When the earliest pending sleep is due, or undefined when nobody sleeps. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const s of this.#sleepers) if (next === undefined || s.at < next) next = s.at;
    return next;
  }

  /** How many sleeps are pending. */
  get pendingSleeps(): number {
    return this.#sleepers.size;
  }

  /** Moves time forward by `ms` and wakes every sleeper now due. */
  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  /** Sets the time (never backwards) and wakes every sleeper now due, earliest first. */
  set(time: number): void {
    if (time < this.#now) throw new Error(`SimClock cannot go backwards (${time} < ${this.#now})`);
    this.#now = time;
    const due = [...this.#sleepers]
      .filter((s) => s.at <= time)
      .sort((a, b) => a.at - b.at || a.order - b.order);
    for (const s of due) {
      this.#sleepers.delete(s);
      s.wake();
    }
  }
}
