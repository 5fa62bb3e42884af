/**
 * Time as the engine sees it. Tests swap in a fake clock (`@ergon/testing`).
 *
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises';

/** A source of time and of waits. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds of this clock's time, or rejects with the
   * signal's reason when it aborts first.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  sleep: async (ms: number, signal?: AbortSignal) => {
    await delay(Math.max(0, ms), undefined, signal ? { signal } : undefined);
  },
});
