/**
 * Acks that share a promise, waited on together. A connector that gathers
 * the acks of a turn into one command (one XACK, one DELETE) returns the
 * same promise for each of them: one reaction to it then tells them all,
 * instead of a reaction, a promise and a closure per ack.
 *
 * @module
 */
import { ACKED, type SettleResult, settleFailure } from './settle.js';

/** Told once when its ack is done. */
export interface AckWaiter {
  /**
   * The ack is done (`settlement: 'ack'`), or failed (`settleError`: the
   * transport redelivers); `at`: when (`performance.now()`, read once for
   * the waiters of one promise).
   */
  acked(result: SettleResult, at: number): void;
}

/** The acks of one run; see the module comment. */
export class AckGroups {
  #last: AckGroup | undefined;

  /**
   * Tells `waiter` once `acking` (what the connector's `ack` returned)
   * settles; a value that is not a promise counts as done, in a microtask.
   * Waiters of the same promise, one after another, share one reaction.
   */
  wait(acking: unknown, waiter: AckWaiter): void {
    const last = this.#last;
    if (last !== undefined && last.promise === acking && last.waiters !== undefined) {
      last.waiters.push(waiter);
      return;
    }
    this.#last = new AckGroup(acking, waiter);
  }
}

/** Waiters of one ack promise; `waiters` is undefined once they were told. */
class AckGroup {
  readonly promise: unknown;
  waiters: AckWaiter[] | undefined;

  constructor(promise: unknown, first: AckWaiter) {
    this.promise = promise;
    this.waiters = [first];
    Promise.resolve(promise).then(
      () => this.#tell(ACKED),
      (error: unknown) => this.#tell(settleFailure(error)),
    );
  }

  #tell(result: SettleResult): void {
    const waiters = this.waiters ?? [];
    this.waiters = undefined;
    const at = performance.now();
    // Each waiter guards itself (a throw is its lifecycle's bug, reported there).
    for (const waiter of waiters) waiter.acked(result, at);
  }
}
