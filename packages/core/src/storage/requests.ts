/**
 * The requests and results of the storage contract ({@link ExecutionLog}):
 * what each primitive takes and reports. Batches of writes are in `batch.ts`.
 *
 * @module
 */
import type { ExecutionLog } from './execution-log.js';
import type { DebounceOption, DedupOption } from './queues.js';
import type { FlowRecord, FlowStatus, OperationRecord, Wait } from './records.js';

/** What every request may carry: a signal that gives up waiting for the store. */
export interface StoreCallOptions {
  /**
   * Aborts the wait for the store (a held lock, a reconnect). The caller then
   * gets `ABORTED`; a write already sent may still take effect.
   */
  readonly signal?: AbortSignal | undefined;
}

/** Input of {@link ExecutionLog.createFlow}. */
export interface NewFlow extends StoreCallOptions {
  /** The flow's id: unique in the store; creating an existing id returns that flow unchanged. */
  readonly id: string;
  /** The flow type's registered name; only workers that know it claim the flow. */
  readonly type: string;
  /** The queue it waits in; workers claim from the queues they are given. */
  readonly queue: string;
  /** Encoded input. */
  readonly input: string;
  /** Higher is claimed first among ready flows of a queue. */
  readonly priority: number;
  /** When it may first run. */
  readonly runAt: number;
  /** The parent flow, for a child flow; the parent is woken when this one finishes. */
  readonly parentId?: string | undefined;
  /** The W3C `traceparent` of its creator, so every run of the flow joins that trace. */
  readonly traceContext?: string | undefined;
  /**
   * Flow control (stores with `capabilities.flowControl`, see `queues.ts`): the key whose
   * running flows are limited and whose queued flows are served fairly against other keys.
   */
  readonly concurrencyKey?: string | undefined;
  /** At most this many running flows of the queue with this flow's key (1: a singleton that waits). */
  readonly concurrencyLimit?: number | undefined;
  /** Returns the flow created with the same key within the period instead of creating one. */
  readonly dedup?: DedupOption | undefined;
  /**
   * Collapses a burst: while the flow created with this key has not started, a create with
   * the key replaces its input and moves its start to `now + delayMs` (never past the first
   * call's `createdAt + maxWaitMs`) and returns it; otherwise a new flow starts after `delayMs`.
   */
  readonly debounce?: DebounceOption | undefined;
  /** The caller's current time (ms since epoch): stores never read a clock of their own. */
  readonly now: number;
  /**
   * Optional: the caller runs the flow now. When this call creates the flow and a claim of it
   * would take it at `now`, the flow is claimed for `workerId` as
   * `claim({ workerId, types: [type], queues: [queue], limit: 1, leaseMs, now, flowId: id })`
   * would (flow-control rules included), and the result carries the claim. An existing flow is
   * returned as it is, unclaimed. Stores with `capabilities.claimOnCreate` do both in one atomic
   * step; for others the runtime wrapper claims right after creating.
   */
  readonly claim?: CreateClaim | undefined;
}

/** The claim a {@link NewFlow} asks for (`NewFlow.claim`). */
export interface CreateClaim {
  /** The claiming worker, recorded as the lease owner. */
  readonly workerId: string;
  /** Length of the lease. */
  readonly leaseMs: number;
}

/** What {@link ExecutionLog.createFlow} reports. */
export interface CreateFlowResult {
  /** The flow as stored: the new one (running when claimed), or the existing one with that id. */
  readonly flow: FlowRecord;
  /** True when this call created it. */
  readonly created: boolean;
  /** The claim, when the request asked for one (`NewFlow.claim`) and the new flow was claimable. */
  readonly claimed?: ClaimedFlow | undefined;
}

/** What one create of {@link ExecutionLog.createFlows} did: its single call's result or error. */
export type CreateOutcome =
  | {
      /** The create succeeded. */
      readonly ok: true;
      /** What its single call returns. */
      readonly value: CreateFlowResult;
    }
  | {
      /** The create failed; the others of the call are unaffected. */
      readonly ok: false;
      /** What its single call throws. */
      readonly error: unknown;
    };

/** Input of {@link ExecutionLog.claim}. */
export interface ClaimRequest extends StoreCallOptions {
  /** The claiming worker, recorded as the lease owner. */
  readonly workerId: string;
  /** Only flows of these types (non-empty, no duplicates). */
  readonly types: readonly string[];
  /** Only flows in these queues (non-empty, no duplicates). */
  readonly queues: readonly string[];
  /** At most this many flows: 1 to {@link MAX_CLAIM_LIMIT}. */
  readonly limit: number;
  /** Length of the lease taken on each claimed flow. */
  readonly leaseMs: number;
  /** The caller's current time (ms): flows due by then are claimable; leases run from it. */
  readonly now: number;
  /** Optional: claim only this flow (it must still be ready and match types and queues). */
  readonly flowId?: string | undefined;
}

/** The most flows one {@link ExecutionLog.claim} call takes. */
export const MAX_CLAIM_LIMIT = 1000;

/** A flow claimed by a worker, with the token its writes must carry. */
export interface ClaimedFlow {
  /** The flow as claimed: status `running`, lease owner and expiry set. */
  readonly flow: FlowRecord;
  /** The fencing token of this claim: every write for the flow must carry it until the lease ends. */
  readonly token: number;
}

/** Who is writing: the flow and the fencing token of the claim. */
export interface LeaseRef {
  /** The flow written to. */
  readonly flowId: string;
  /** The fencing token of the writer's claim; a stale one is refused with `LEASE_LOST`. */
  readonly token: number;
}

/** Input of {@link ExecutionLog.renewLease}. */
export interface RenewRequest extends LeaseRef, StoreCallOptions {
  /** The lease runs until `now + leaseMs`. */
  readonly leaseMs: number;
  /** The caller's current time (ms). */
  readonly now: number;
}

/** What {@link ExecutionLog.renewLease} reports. */
export interface RenewResult {
  /** True when `client.cancel` was called while running: abort and finish as cancelled. */
  readonly cancelRequested: boolean;
}

/** Input of {@link ExecutionLog.releaseLease}. */
export interface ReleaseRequest extends LeaseRef, StoreCallOptions {
  /** The caller's current time (ms): the flow is claimable again from then (or `retryAt`). */
  readonly now: number;
  /**
   * Why the run is given up (an encoded error), when it is abandoned rather than handed over:
   * stored as the flow's `lastError`, and the run counts in its `abandonedRuns`.
   */
  readonly error?: string | undefined;
  /** When the flow may be claimed again (a backoff); default `now`. */
  readonly retryAt?: number | undefined;
}

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

/** Input of {@link ExecutionLog.sendSignal}. */
export interface SendSignalRequest extends StoreCallOptions {
  /** The flow to signal. */
  readonly flowId: string;
  /** The signal name; the flow receives it with `waitForSignal(name)`. */
  readonly name: string;
  /** Encoded payload. */
  readonly payload: string;
  /** The caller's current time (ms), recorded as `sentAt`. */
  readonly now: number;
}

/** Input of {@link ExecutionLog.requestCancel}. */
export interface CancelRequest extends StoreCallOptions {
  /** The flow to cancel. */
  readonly flowId: string;
  /** Encoded reason (a `FlowCancelledError`), stored as the flow's error. */
  readonly error: string;
  /** The caller's current time (ms). */
  readonly now: number;
}

/** Input of {@link ExecutionLog.nextWakeAt}. */
export interface WakeFilter extends StoreCallOptions {
  /** Non-empty, no duplicates. */
  readonly types: readonly string[];
  /** Non-empty, no duplicates. */
  readonly queues: readonly string[];
}

/** Filters of {@link ExecutionLog.listFlows}. */
export interface FlowQuery extends StoreCallOptions {
  /** One status or several (each one of {@link FlowStatus}). */
  readonly status?: FlowStatus | readonly FlowStatus[] | undefined;
  /** Only flows of this type. */
  readonly type?: string | undefined;
  /** Only flows in this queue. */
  readonly queue?: string | undefined;
  /** Only the children of this flow. */
  readonly parentId?: string | undefined;
  /** Created at or after (ms). */
  readonly since?: number | undefined;
  /** Page size; default 50, at most 1000. */
  readonly limit?: number | undefined;
  /** Opaque cursor from the previous page. */
  readonly cursor?: string | undefined;
}

/**
 * A {@link FlowQuery} after the runtime wrapper normalised it: what a store's
 * `listFlows` receives. Statuses are a list, the limit is set and the cursor decoded.
 */
export interface NormalizedFlowQuery extends StoreCallOptions {
  /** Only flows in one of these statuses. */
  readonly statuses?: readonly FlowStatus[] | undefined;
  /** Only flows of this type. */
  readonly type?: string | undefined;
  /** Only flows in this queue. */
  readonly queue?: string | undefined;
  /** Only the children of this flow. */
  readonly parentId?: string | undefined;
  /** Only flows created at or after this time (ms). */
  readonly since?: number | undefined;
  /** 1 to 1000. */
  readonly limit: number;
  /** Flows strictly after this one in newest-first order. */
  readonly after?:
    | {
        /** The `createdAt` of the last flow of the previous page. */
        readonly createdAt: number;
        /** Its id (breaks ties of `createdAt`). */
        readonly id: string;
      }
    | undefined;
}

/** A page of flows, newest first. */
export interface FlowPage {
  /** The flows of this page, newest first. */
  readonly flows: readonly FlowRecord[];
  /** Pass as `cursor` for the next page; undefined on the last page. */
  readonly nextCursor?: string | undefined;
}

/** Input of {@link ExecutionLog.purge}. */
export interface PurgeRequest extends StoreCallOptions {
  /** Purge terminal flows finished before this time (ms). */
  readonly finishedBefore: number;
  /** At most this many flows per call (≥ 1). */
  readonly limit: number;
}

/** Options of the one-flow reads (`getFlow`, `getHistory`, `getSignals`). */
export type ReadOptions = StoreCallOptions;
