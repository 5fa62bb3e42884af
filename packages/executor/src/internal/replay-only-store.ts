/**
 * The store a replay check runs an activation on: it holds nothing and
 * refuses every write, so a check can never change anything. A write the
 * activation attempts (a marker, a due timer, a DAG's final record) is where
 * the code left the recorded history: the check stops there.
 *
 * @module
 */
import { InMemoryExecutionLog } from '@ergon/core';

/** Thrown by every write of a {@link ReplayOnlyStore}. */
export class ReplayWriteRefused extends Error {
  constructor(action: string) {
    super(`a replay check writes nothing (refused: ${action})`);
    this.name = 'ReplayWriteRefused';
  }
}

/** True when `error`, or an error in its cause chain, is a {@link ReplayWriteRefused}. */
export function isReplayWriteRefused(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof ReplayWriteRefused) return true;
  }
  return false;
}

function refuse(action: string): Promise<never> {
  return Promise.reject(new ReplayWriteRefused(action));
}

/** An empty in-memory store whose writes all fail with {@link ReplayWriteRefused}. */
export class ReplayOnlyStore extends InMemoryExecutionLog {
  override createFlow(): Promise<never> {
    return refuse('createFlow');
  }
  override claim(): Promise<never> {
    return refuse('claim');
  }
  override renewLease(): Promise<never> {
    return refuse('renewLease');
  }
  override releaseLease(): Promise<never> {
    return refuse('releaseLease');
  }
  override applyWrites(): Promise<never> {
    return refuse('applyWrites');
  }
  override recordOperation(): Promise<never> {
    return refuse('recordOperation');
  }
  override consumeSignal(): Promise<never> {
    return refuse('consumeSignal');
  }
  override setProgress(): Promise<never> {
    return refuse('setProgress');
  }
  override suspend(): Promise<never> {
    return refuse('suspend');
  }
  override finishFlow(): Promise<never> {
    return refuse('finishFlow');
  }
  override sendSignal(): Promise<never> {
    return refuse('sendSignal');
  }
  override requestCancel(): Promise<never> {
    return refuse('requestCancel');
  }
  override purge(): Promise<never> {
    return refuse('purge');
  }
}
