/**
 * The optional import primitive: a flow created with a history already
 * written, in one atomic step. `client.fork` and `ergon flows import` use it;
 * a store without it cannot be forked into or imported into (the runtime
 * wrapper says so).
 *
 * @module
 */

import type { StoreCallOptions } from './call-options.js';
import type { FlowRecord, OperationRecord } from './records.js';
import type { StoreEvent } from './store-events.js';

/** A buffered signal to import, in FIFO order: the store assigns its `seq`. */
export interface ImportedSignal {
  /** The signal name. */
  readonly name: string;
  /** Encoded payload. */
  readonly payload: string;
  /** When it was sent (ms since epoch). */
  readonly sentAt: number;
}

/** Input of {@link FlowImporter.importFlow}. */
export interface ImportFlowRequest extends StoreCallOptions {
  /**
   * The flow record to store as it is: every field of {@link FlowRecord} the store keeps
   * (status, lease, fencing token, run counts, result, error, progress, timestamps, and with
   * `capabilities.flowControl` the concurrency key, own limit and debounce key), except
   * `damage` and fields a store assigns itself (the fair-queueing tag). A flow whose history
   * is not empty should have `runCount` ≥ 1: the engine reads no history for a flow on its
   * first claim.
   */
  readonly flow: FlowRecord;
  /** Its history: at most one record per position, each with the flow's id. */
  readonly history: readonly OperationRecord[];
  /** Its buffered signals, oldest first. */
  readonly signals: readonly ImportedSignal[];
  /** The time of the import (ms), for the `ready` event of a flow claimable now. */
  readonly now: number;
}

/** Output of {@link FlowImporter.importFlow}. */
export interface ImportFlowResult {
  /** False when a flow with that id existed: nothing was written (first write wins). */
  readonly created: boolean;
  /** The stored flow: the imported one, or the existing one. */
  readonly flow: FlowRecord;
}

/** What a store implements to take imported flows. */
export interface FlowImporter {
  /**
   * Creates `flow` with its history and buffered signals in one atomic step, or writes nothing
   * when a flow with its id exists (`created: false`, never a second flow or a mixed history).
   * Afterwards `getFlow`, `getHistory` and `getSignals` read back what was given (signals with
   * new `seq`s, in the given order). A pending flow, or a suspended one with a `runAt`, is
   * claimable as any other: the store emits `ready` for it.
   */
  importFlow(request: ImportFlowRequest): Promise<ImportFlowResult>;
}

/**
 * The `ready` event a store emits for an imported flow: one claimable by time (pending, or
 * suspended with a `runAt`), at `runAt` when that is later than `now`; undefined otherwise.
 */
export function importReadyEvent(flow: FlowRecord, now: number): StoreEvent | undefined {
  if ((flow.status !== 'pending' && flow.status !== 'suspended') || flow.runAt === undefined)
    return undefined;
  return { type: 'ready', queue: flow.queue, at: flow.runAt > now ? flow.runAt : undefined };
}
