/**
 * The storage contract: the one interface between the engine and a store
 * (DESIGN §2.7). Primitives are small and atomic; each store implements them
 * with its own transactions (SQLite) or scripts (Redis), and every store runs
 * the same conformance suite from `@ergon/testing`.
 *
 * Time is passed in (`now`) rather than read by the store, so a fake clock
 * drives every store the same way.
 *
 * Errors: a stale fencing token → `LeaseLostError`; an unknown flow →
 * `FlowNotFoundError`; a signal to a finished flow → `FlowFinishedError`.
 * Anything else a driver throws is mapped to `STORE_UNAVAILABLE` (transient)
 * or `STORE_CORRUPT` by the store's one error-mapping function.
 *
 * @module
 */
import type { FlowRecord, FlowStatus, OperationRecord, SignalRecord, Wait } from './records.js';

/** Input of {@link ExecutionLog.createFlow}. */
export interface NewFlow {
  readonly id: string;
  readonly type: string;
  readonly queue: string;
  /** Encoded input. */
  readonly input: string;
  readonly priority: number;
  /** When it may first run. */
  readonly runAt: number;
  readonly parentId?: string | undefined;
  readonly traceContext?: string | undefined;
  readonly now: number;
}

/** Input of {@link ExecutionLog.claim}. */
export interface ClaimRequest {
  readonly workerId: string;
  /** Only flows of these types. */
  readonly types: readonly string[];
  /** Only flows in these queues. */
  readonly queues: readonly string[];
  /** At most this many flows. */
  readonly limit: number;
  readonly leaseMs: number;
  readonly now: number;
  /** Optional: claim only this flow (it must still be ready and match types and queues). */
  readonly flowId?: string | undefined;
}

/** A flow claimed by a worker, with the token its writes must carry. */
export interface ClaimedFlow {
  readonly flow: FlowRecord;
  readonly token: number;
}

/** Who is writing: the flow and the fencing token of the claim. */
export interface LeaseRef {
  readonly flowId: string;
  readonly token: number;
}

/** What {@link ExecutionLog.renewLease} reports. */
export interface RenewResult {
  /** True when `client.cancel` was called while running: abort and finish as cancelled. */
  readonly cancelRequested: boolean;
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

/** What {@link ExecutionLog.suspend} reports. */
export type SuspendResult =
  /** The flow is suspended and the lease released; some worker resumes it when a wait resolves. */
  | { readonly outcome: 'suspended' }
  /** A wait had already resolved (signal buffered, child finished, timer due): the caller keeps the lease and runs again. */
  | { readonly outcome: 'ready' }
  /** Cancellation was requested; the flow is now cancelled. */
  | { readonly outcome: 'cancelled' };

/** Input of {@link ExecutionLog.finishFlow}. */
export interface FinishRequest extends LeaseRef {
  readonly status: 'completed' | 'failed' | 'cancelled';
  /** Encoded result (completed). */
  readonly result?: string | undefined;
  /** Encoded error (failed, cancelled). */
  readonly error?: string | undefined;
  readonly now: number;
}

/** Filters of {@link ExecutionLog.listFlows}. */
export interface FlowQuery {
  readonly status?: FlowStatus | readonly FlowStatus[];
  readonly type?: string;
  readonly queue?: string;
  readonly parentId?: string;
  /** Created at or after (ms). */
  readonly since?: number;
  /** Page size; default 50, at most 1000. */
  readonly limit?: number;
  /** Opaque cursor from the previous page. */
  readonly cursor?: string;
}

/** A page of flows, newest first. */
export interface FlowPage {
  readonly flows: readonly FlowRecord[];
  /** Pass as `cursor` for the next page; undefined on the last page. */
  readonly nextCursor?: string | undefined;
}

/** Input of {@link ExecutionLog.purge}. */
export interface PurgeRequest {
  /** Purge terminal flows finished before this time (ms). */
  readonly finishedBefore: number;
  /** At most this many flows per call. */
  readonly limit: number;
}

/** An event a store may emit so idle workers wake without polling. */
export type StoreEvent =
  /** A flow became claimable now, or at `at` when given. */
  | { readonly type: 'ready'; readonly queue: string; readonly at?: number | undefined }
  /** A flow reached a terminal state. */
  | { readonly type: 'finished'; readonly flowId: string; readonly status: FlowStatus };

/** The storage contract. See the module comment for time and error rules. */
export interface ExecutionLog {
  /** Stable store name (`memory`, `sqlite`, `redis`). */
  readonly name: string;

  /**
   * Creates a flow, or returns the existing one with that id (idempotent; never a second flow).
   * Creating a child (`parentId` set) is equally idempotent.
   */
  createFlow(flow: NewFlow): Promise<{ readonly flow: FlowRecord; readonly created: boolean }>;

  /** The flow, or undefined. */
  getFlow(flowId: string): Promise<FlowRecord | undefined>;

  /** Flows matching the query, newest first, paged by cursor. */
  listFlows(query: FlowQuery): Promise<FlowPage>;

  /** The flow's history ordered by position. Empty for an unknown flow. */
  getHistory(flowId: string): Promise<OperationRecord[]>;

  /** Buffered (unconsumed) signals of the flow, oldest first. */
  getSignals(flowId: string): Promise<SignalRecord[]>;

  /**
   * Atomically claims up to `limit` flows that are ready: pending or suspended with
   * `runAt <= now`, or running with an expired lease. Each claim sets status `running`,
   * the lease and a new fencing token (previous + 1). A flow is claimed by exactly one caller.
   * Order: priority descending, then `runAt` ascending.
   */
  claim(request: ClaimRequest): Promise<ClaimedFlow[]>;

  /** Extends the lease to `now + leaseMs`. @throws LeaseLostError when the token is stale. */
  renewLease(lease: LeaseRef & { readonly leaseMs: number; readonly now: number }): Promise<RenewResult>;

  /**
   * Gives the flow back (graceful shutdown): status `pending`, `runAt = now`, no lease.
   * A stale token is ignored (someone else owns it already).
   */
  releaseLease(lease: LeaseRef & { readonly now: number }): Promise<void>;

  /**
   * Writes a history record at `record.position`. If a final (`completed`/`failed`) record
   * is already there, nothing is written and that record is returned (`existed: true`).
   * @throws LeaseLostError when the token is stale.
   */
  recordOperation(lease: LeaseRef, record: OperationRecord): Promise<RecordResult>;

  /**
   * Atomically pops the oldest buffered signal named `name` and records it as the
   * completed operation `record` (its `result` is the signal's payload). If a final
   * record already exists at that position, returns it and consumes nothing.
   * Returns undefined when no such signal is buffered.
   * @throws LeaseLostError when the token is stale.
   */
  consumeSignal(
    lease: LeaseRef,
    request: { readonly name: string; readonly record: Omit<OperationRecord, 'result' | 'status'> },
  ): Promise<RecordResult | undefined>;

  /**
   * Suspends a running flow on `waits` and releases its lease, unless a wait has already
   * resolved (a buffered signal of a waited name, a waited child in a terminal state, a
   * timer with `at <= now`): then nothing changes and the outcome is `ready`.
   * A suspended flow becomes claimable when its earliest timer is due, when a waited signal
   * arrives, or when a waited child finishes.
   * @throws LeaseLostError when the token is stale.
   */
  suspend(lease: LeaseRef & { readonly waits: readonly Wait[]; readonly now: number }): Promise<SuspendResult>;

  /**
   * Moves a running flow to a terminal state, releasing the lease. When it is a child,
   * its parent is woken if it waits on it.
   * @throws LeaseLostError when the token is stale.
   */
  finishFlow(request: FinishRequest): Promise<void>;

  /**
   * Buffers a signal and wakes the flow if it is suspended waiting on that name.
   * @throws FlowNotFoundError, or FlowFinishedError when the flow is terminal.
   */
  sendSignal(signal: {
    readonly flowId: string;
    readonly name: string;
    readonly payload: string;
    readonly now: number;
  }): Promise<void>;

  /**
   * Requests cancellation. A pending or suspended flow is cancelled at once (its parent,
   * if waiting, is woken); a running one gets `cancelRequested` and stops at its next
   * durable operation. A terminal flow is returned unchanged.
   * @throws FlowNotFoundError.
   */
  requestCancel(request: { readonly flowId: string; readonly error: string; readonly now: number }): Promise<FlowRecord>;

  /**
   * The earliest time a flow of these types and queues becomes claimable (a due `runAt`
   * or a lease expiry), or undefined when none will by time alone.
   */
  nextWakeAt(filter: { readonly types: readonly string[]; readonly queues: readonly string[] }): Promise<number | undefined>;

  /** Deletes terminal flows finished before the cut-off, with their history and signals. Returns how many. */
  purge(request: PurgeRequest): Promise<number>;

  /** Optional: events for idle workers and result waiters. Returns an unsubscribe function. */
  subscribe?(listener: (event: StoreEvent) => void): () => void;

  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}
