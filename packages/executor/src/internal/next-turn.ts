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

/** Work for the next turn that is a method of a long-lived object: no closure made per call. */
export interface TurnTask {
  /** Runs on the next turn. */
  nextTurn(): void;
}

let queue: (TurnTask | (() => void))[] = [];
let scheduled = false;

/** Runs `task` on the next turn of the event loop, with every other task deferred this turn. */
export function nextTurn(task: TurnTask | (() => void)): void {
  queue.push(task);
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
  for (const task of due) {
    try {
      if (typeof task === 'function') task();
      else task.nextTurn();
    } catch (error) {
      // As a throw from its own immediate would: reported, without keeping the others from running.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
