/**
 * What every request of the storage contract ({@link ExecutionLog}) may carry,
 * and the options of its one-flow reads.
 *
 * @module
 */
import type { ExecutionLog } from './execution-log.js';

/** What every request of {@link ExecutionLog} may carry: a signal that gives up waiting for the store. */
export interface StoreCallOptions {
  /**
   * Aborts the wait for the store (a held lock, a reconnect). The caller then
   * gets `ABORTED`; a write already sent may still take effect.
   */
  readonly signal?: AbortSignal | undefined;
}

/** Options of the one-flow reads (`getFlow`, `getHistory`, `getSignals`). */
export type ReadOptions = StoreCallOptions;
