/**
 * Waiting out another connection's write lock without blocking the event loop.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isBusyError } from './errors.js';

/**
 * Longest a statement blocks the thread inside SQLite's busy handler; the rest is async retries.
 * 1 ms: the handler sleeps 1, 2, 5, 10 ms… with the whole process stopped, while another
 * process's write transaction holds the lock for a millisecond or two. With 20 ms, two worker
 * processes on one file ran about a third fewer flows per second (executor/bench/multi.mjs,
 * 2 × 50, alternating runs): each spent its waits frozen instead of running its other flows.
 */
export const BUSY_SLICE_MS = 1;

/**
 * Longest pause between two tries at the lock. 8 ms, not 50: two busy processes take the lock in
 * turns, and a process that has failed a few times sleeps past many of the other's commits,
 * its flows waiting the while (timer probe, 2 processes, 40k flows waking over 11 s, 2 runs each:
 * lateness p99.9 96/121 → 70/67 ms, max 116/130 → 80/76 ms; its longest lock waits 170-310 →
 * 60-100 ms; draining 20k flows 20.8/19.9k → 20.3/21.9k flows/s, with 4 ms 18.8/17.3k).
 */
const BACKOFF_CEILING_MS = 8;

/**
 * A jittered, exponentially growing pause before retry `attempt` (0-based):
 * about 1 ms at first, at most {@link BACKOFF_CEILING_MS}. Jitter keeps competing
 * processes from retrying in lockstep.
 */
export function backoffMs(attempt: number): number {
  const ceiling = Math.min(BACKOFF_CEILING_MS, 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Runs `fn`; while it fails because the database is locked, retries after
 * {@link backoffMs} until `budgetMs` has passed, then rethrows the last error.
 */
export async function retryBusy<T>(fn: () => T, budgetMs: number): Promise<T> {
  let deadline: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (error) {
      if (!isBusyError(error)) throw error;
      const now = Date.now();
      deadline ??= now + budgetMs;
      if (now >= deadline) throw error;
      await sleep(Math.min(backoffMs(attempt), deadline - now));
    }
  }
}
