/**
 * Work deferred to the next turn of the event loop, all of a turn's in one
 * macrotask. Node.js drains the microtask queue after each `setImmediate`
 * callback, so fifty flows that each deferred with their own immediate would
 * run, and write to the store, one after another: the write coalescer would
 * see fifty batches of one. Run from one immediate, they all run before the
 * microtasks they start, and their writes meet in one batch.
 *
 * @module
 */

let queue: (() => void)[] = [];
let scheduled = false;

/** Runs `fn` on the next turn of the event loop, with every other callback deferred this turn. */
export function nextTurn(fn: () => void): void {
  queue.push(fn);
  if (scheduled) return;
  scheduled = true;
  setImmediate(drain);
}

/** A promise that resolves on the next turn (see {@link nextTurn}). */
export function afterTurn(): Promise<void> {
  return new Promise((resolve) => nextTurn(resolve));
}

function drain(): void {
  scheduled = false;
  const due = queue;
  queue = [];
  for (const fn of due) {
    try {
      fn();
    } catch (error) {
      // As a throw from its own immediate would: reported, without keeping the others from running.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
