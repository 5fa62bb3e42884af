// The CPU-bound work, in a module of its own: it is loaded by worker threads,
// never by the main thread. Its input and result cross threads by structured
// clone (plain data, Date, Map, Set, typed arrays).
import type { Transaction } from '@ergon/core';
import type { ThreadScope } from '@ergon/tasks';
import { threadId } from 'node:worker_threads';

export interface PrimeJob {
  readonly id: string;
  /** Count the primes below this. */
  readonly below: number;
  /** A bug that never returns: the timeout must stop it. */
  readonly runaway?: boolean;
}

export interface PrimeCount {
  readonly below: number;
  readonly primes: number;
  readonly thread: number;
}

export function countPrimes(tx: Transaction<PrimeJob>, _scope: ThreadScope): PrimeCount {
  if (tx.payload.runaway) for (;;) {} // a tight loop: no await, no signal checks
  const sieve = new Uint8Array(tx.payload.below);
  let primes = 0;
  for (let n = 2; n < tx.payload.below; n++) {
    if (sieve[n]) continue;
    primes++;
    for (let m = n * n; m < tx.payload.below; m += n) sieve[m] = 1;
  }
  return { below: tx.payload.below, primes, thread: threadId };
}
