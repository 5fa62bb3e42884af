/**
 * In-process news of schedule changes: a client that creates, resumes or
 * updates a schedule tells the schedule loops of workers in the same process
 * on the same store at once, instead of at their next periodic look.
 *
 * @module
 */
import type { RuntimeExecutionLog } from '@ergon/core';

const watchers = new WeakMap<RuntimeExecutionLog, Set<() => void>>();

/** Calls `listener` whenever a schedule of `store` changes in this process. Returns the unsubscribe. */
export function onSchedulesChanged(store: RuntimeExecutionLog, listener: () => void): () => void {
  let set = watchers.get(store);
  if (!set) {
    set = new Set();
    watchers.set(store, set);
  }
  set.add(listener);
  return () => set.delete(listener);
}

/** Tells this process's schedule loops on `store` that a schedule changed. */
export function schedulesChanged(store: RuntimeExecutionLog): void {
  for (const listener of watchers.get(store) ?? []) listener();
}
