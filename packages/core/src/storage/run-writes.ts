/**
 * The storage contract's writes of a run, each under its lease
 * ({@link ExecutionLog}): history records (first write wins), a consumed
 * signal, progress, the suspension and the finish. Batches of them are in
 * `batch.ts`.
 *
 * @module
 */
import type { StoreCallOptions } from './call-options.js';
import type { ExecutionLog } from './execution-log.js';
import type { ClaimedFlow, ClaimRequest, LeaseRef } from './leases.js';
import type { OperationRecord, Wait } from './records.js';

/** Input of {@link ExecutionLog.recordOperation}. */
export interface RecordRequest extends LeaseRef, StoreCallOptions {
  /** The record; its `flowId` is the lease's. */
  readonly record: OperationRecord;
}

/** What {@link ExecutionLog.recordOperation} reports. */
export interface RecordResult {
  /** The record now stored at that position: the one written, or an earlier final one (first write wins). */
  readonly record: OperationRecord;
  /** True when an earlier final record won and `record` is that one. */
  readonly existed: boolean;
  /** True when cancellation was requested: the engine stops at this durable operation. */
  readonly cancelRequested: boolean;
}

/** Input of {@link ExecutionLog.consumeSignal}. */
export interface ConsumeSignalRequest extends LeaseRef, StoreCallOptions {
  /** The signal name to pop. */
  readonly name: string;
  /** The record to write when one is popped; its `result` becomes the signal's payload. */
  readonly record: Omit<OperationRecord, 'result' | 'status'>;
}

/** Input of {@link ExecutionLog.suspend}. */
export interface SuspendRequest extends LeaseRef, StoreCallOptions {
  /** What the flow waits for; at least one. */
  readonly waits: readonly Wait[];
  /** The caller's current time (ms): timers in `waits` that are due by then make the flow ready. */
  readonly now: number;
}

/** What {@link ExecutionLog.suspend} reports. */
export type SuspendResult =
  /** The flow is suspended and the lease released; some worker resumes it when a wait resolves. */
  | {
      /** Suspended: the caller's lease ended. */
      readonly outcome: 'suspended';
    }
  /** A wait had already resolved (signal buffered, child finished, timer due): the caller keeps the lease and runs again. */
  | {
      /** Ready: the caller still holds the lease and runs the flow again. */
      readonly outcome: 'ready';
    }
  /** Cancellation was requested; the flow is now cancelled. */
  | {
      /** Cancelled: the flow is terminal; the caller stops. */
      readonly outcome: 'cancelled';
    };

/** The statuses {@link ExecutionLog.finishFlow} may write. */
export type FinishStatus = 'completed' | 'failed' | 'cancelled';

/** Input of {@link ExecutionLog.finishFlow}. */
export interface FinishRequest extends LeaseRef, StoreCallOptions {
  /** The terminal status to write. */
  readonly status: FinishStatus;
  /** Encoded result (completed). */
  readonly result?: string | undefined;
  /**
   * Encoded error (failed, cancelled). For `cancelled`, the reason recorded by
   * {@link ExecutionLog.requestCancel} wins: this one is kept only when none was.
   */
  readonly error?: string | undefined;
  /** The caller's current time (ms), recorded as `finishedAt`. */
  readonly now: number;
  /**
   * Optional: the finishing worker's next claim, made in the same store call once the finish is
   * written (one transaction or script), as `claim({ ...next, now })` would make it, `park`
   * included. A worker whose run ends takes its next flow without a round trip of its own. The
   * claim never undoes the finish: a finish refused (a stale token) claims nothing, and a store
   * that does not make such claims answers without `claimed` (the caller then claims as usual).
   */
  readonly next?: NextClaim | undefined;
}

/** The claim a finish makes for its worker ({@link FinishRequest.next}): a claim without its time. */
export type NextClaim = Pick<ClaimRequest, 'workerId' | 'types' | 'queues' | 'limit' | 'leaseMs' | 'park'>;

/** What {@link ExecutionLog.finishFlow} answers. */
export interface FinishResult {
  /**
   * The flows `next` claimed (possibly none). Undefined when the request had no `next` or the
   * store did not make the claim.
   */
  readonly claimed?: ClaimedFlow[] | undefined;
}

/**
 * The largest encoded progress value {@link ExecutionLog.setProgress} takes, in UTF-8 bytes
 * (16 KiB). Progress is read with every flow record (lists, live pages), so it stays small.
 */
export const MAX_PROGRESS_BYTES = 16 * 1024;

/** Input of {@link ExecutionLog.setProgress}. */
export interface ProgressRequest extends LeaseRef, StoreCallOptions {
  /** The encoded progress value (the codec's text), at most {@link MAX_PROGRESS_BYTES}. */
  readonly progress: string;
  /** The caller's current time (ms), recorded as `progressAt`. */
  readonly now: number;
}

/** What {@link ExecutionLog.setProgress} reports. */
export interface ProgressResult {
  /** True when cancellation was requested: the engine stops at its next durable operation. */
  readonly cancelRequested: boolean;
}
