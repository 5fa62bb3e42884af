/**
 * The storage contract: the one interface between the engine and a store
 * (DESIGN §2.7). Primitives are small and atomic; each store implements them
 * with its own transactions (SQLite) or scripts (Redis), and every store runs
 * the same conformance suite from `@ergon/testing`.
 *
 * Its requests and results are in files by area: `flows.ts` (create, signal,
 * cancel, purge), `leases.ts` (claims and leases), `run-writes.ts` (what a run
 * writes under its lease), `batch.ts`, `query.ts` (listing), `queues.ts`,
 * `workers.ts`, `schedules.ts`, `import-flow.ts`, `store-events.ts`, and what
 * a store can do beyond the required primitives in `capabilities.ts`.
 *
 * Time is passed in (`now`) rather than read by the store, so a fake clock
 * drives every store the same way.
 *
 * Errors: a stale fencing token → `LeaseLostError`; an unknown flow →
 * `FlowNotFoundError`; a signal to a finished flow → `FlowFinishedError`.
 * Anything else a driver throws is mapped to `STORE_UNAVAILABLE` (transient)
 * or `STORE_CORRUPT` by the store's one error-mapping function.
 *
 * Damaged data (the poison rule, DESIGN §2.7): data of the wrong shape is
 * `STORE_CORRUPT`, never `STORE_UNAVAILABLE`, so the engine gives up on it
 * instead of retrying forever. The damage stays with its flow: `getHistory`
 * of a flow whose history is damaged fails, but `finishFlow(failed)` on it
 * still succeeds (that is how the engine fails a flow the store cannot serve),
 * and a flow record with a damaged part is returned with `damage` set, so
 * `getFlow`, `listFlows` and `claim` never fail because of one bad record.
 * Runs given up on are counted in the flow (`abandonedRuns`: at claim when a
 * lease expired, at a release with an `error`), with the last known cause
 * (`lastError`), so a flow that is not progressing says why.
 *
 * Arguments: the engine never calls a store directly but through
 * {@link RuntimeExecutionLog} (`runtimeStore(store)`), which validates and
 * normalises every argument once, refuses calls after `close()`, closes once
 * and isolates event listeners. A store may therefore assume well-formed
 * requests (ids, finite times, whole limits ≥ 1, known statuses, a record
 * whose `flowId` is its lease's, deduplicated non-empty type and queue
 * lists) and keeps only what must be atomic with its writes: fencing, first
 * write wins, the cancel flag.
 *
 * @module
 */
import type { BatchOutcome, BatchWrite } from './batch.js';
import type { ReadOptions } from './call-options.js';
import type { StoreCapabilities } from './capabilities.js';
import type {
  CancelRequest,
  CreateFlowResult,
  CreateOutcome,
  NewFlow,
  PurgeRequest,
  SendSignalRequest,
} from './flows.js';
import type { ImportFlowRequest, ImportFlowResult } from './import-flow.js';
import type {
  ClaimedFlow,
  ClaimRequest,
  ReleaseRequest,
  RenewRequest,
  RenewResult,
  WakeFilter,
} from './leases.js';
import type { FlowPage, NormalizedFlowQuery } from './query.js';
import type { ConfigureQueueRequest, QueueState, QueueStateRequest } from './queues.js';
import type { FlowRecord, OperationRecord, SignalRecord } from './records.js';
import type {
  ConsumeSignalRequest,
  FinishRequest,
  FinishResult,
  ProgressRequest,
  ProgressResult,
  RecordRequest,
  RecordResult,
  SuspendRequest,
  SuspendResult,
} from './run-writes.js';
import type { ScheduleLog } from './schedules.js';
import type { StoreListener } from './store-events.js';
import type { HeartbeatResult, RemoveWorkerRequest, WorkerHeartbeat, WorkerRecord } from './workers.js';

export { type BatchOutcome, type BatchWrite, MAX_BATCH_WRITES } from './batch.js';
export * from './call-options.js';
export * from './capabilities.js';
export * from './flows.js';
export * from './import-flow.js';
export * from './leases.js';
export type { FlowPage, FlowQuery, NormalizedFlowQuery } from './query.js';
export * from './queues.js';
export * from './run-writes.js';
export * from './schedules.js';
export * from './store-events.js';

/** The storage contract. See the module comment for time, error and argument rules. */
export interface ExecutionLog {
  /** Stable store name (`memory`, `sqlite`, `redis`). */
  readonly name: string;

  /** Optional capabilities; see {@link StoreCapabilities}. */
  readonly capabilities: StoreCapabilities;

  /** Optional: cron schedules kept in the store (`schedules.ts`), so every worker sees them. */
  readonly schedules?: ScheduleLog;

  /**
   * Creates a flow, or returns the existing one with that id (idempotent; never a second flow).
   * Creating a child (`parentId` set) is equally idempotent.
   */
  createFlow(flow: NewFlow): Promise<CreateFlowResult>;

  /**
   * Optional: several creates in one round trip (one transaction or script), each with exactly
   * the effect, result and error of its own `createFlow` call, applied in order (two creates
   * with one de-duplication key behave as two calls one after the other). A create that fails
   * fails alone. The batch as a whole may fail (the store is unreachable): then any of its
   * creates may or may not have taken effect. At most {@link MAX_BATCH_WRITES} flows. The
   * runtime wrapper gathers the creates made while another is in flight into one call to it.
   */
  createFlows?(flows: readonly NewFlow[]): Promise<CreateOutcome[]>;

  /** The flow, or undefined. */
  getFlow(flowId: string, options?: ReadOptions): Promise<FlowRecord | undefined>;

  /** Flows matching the query, newest first, paged by cursor. */
  listFlows(query: NormalizedFlowQuery): Promise<FlowPage>;

  /** The flow's history ordered by position. Empty for an unknown flow. */
  getHistory(flowId: string, options?: ReadOptions): Promise<OperationRecord[]>;

  /** Buffered (unconsumed) signals of the flow, oldest first. */
  getSignals(flowId: string, options?: ReadOptions): Promise<SignalRecord[]>;

  /**
   * Atomically claims up to `limit` flows that are ready: pending or suspended with
   * `runAt <= now`, or running with an expired lease. Each claim sets status `running`,
   * the lease and a new fencing token (previous + 1), and adds one to `runCount`; a claim of a
   * running flow (its lease expired: that run was abandoned) adds one to `abandonedRuns` too.
   * A flow is claimed by exactly one caller. Order: priority descending, then `runAt` ascending.
   * With `capabilities.flowControl`, a queue with limits or keyed flows is claimed within its
   * limits and in fair order (`queues.ts`), so a claim may return fewer flows than are ready.
   */
  claim(request: ClaimRequest): Promise<ClaimedFlow[]>;

  /**
   * Extends the lease to `now + leaseMs`, never shortening it: a renewal that takes effect after a
   * later one (a resend, one the caller stopped waiting for) leaves the later expiry.
   * @throws LeaseLostError when the token is stale.
   */
  renewLease(request: RenewRequest): Promise<RenewResult>;

  /**
   * Gives the flow back: status `pending`, `runAt = retryAt ?? now`, no lease. With an `error`
   * (a run abandoned on a failure) the flow's `lastError` becomes it and `abandonedRuns` grows
   * by one; without (a graceful shutdown) both stay as they are.
   * A stale token is ignored (someone else owns it already).
   */
  releaseLease(request: ReleaseRequest): Promise<void>;

  /**
   * Writes a history record at `record.position`. If a final (`completed`/`failed`) record
   * is already there, nothing is written and that record is returned (`existed: true`).
   * @throws LeaseLostError when the token is stale.
   */
  recordOperation(request: RecordRequest): Promise<RecordResult>;

  /**
   * Atomically pops the oldest buffered signal named `name` and records it as the
   * completed operation `record` (its `result` is the signal's payload). If a final
   * record already exists at that position, returns it and consumes nothing.
   * Returns undefined when no such signal is buffered.
   * @throws LeaseLostError when the token is stale.
   */
  consumeSignal(request: ConsumeSignalRequest): Promise<RecordResult | undefined>;

  /**
   * Stores the flow's latest progress on its record (`progress`, `progressAt = now`, and
   * `updatedAt = now`), replacing the previous value, and emits a `progress` event. Not a
   * history record: it takes no position and replay never reads it. The value stays on the
   * record after the flow finishes and goes with it when it is purged.
   * @throws FlowNotFoundError for an unknown flow; LeaseLostError when the token is stale or the
   *   flow is not running.
   */
  setProgress(request: ProgressRequest): Promise<ProgressResult>;

  /**
   * Suspends a running flow on `waits` and releases its lease, unless a wait has already
   * resolved (a buffered signal of a waited name, a waited child in a terminal state, a
   * timer with `at <= now`): then nothing changes and the outcome is `ready`.
   * A suspended flow becomes claimable when its earliest timer is due, when a waited signal
   * arrives, or when a waited child finishes. Suspending resets `abandonedRuns` and `lastError`
   * (the run made progress).
   * @throws LeaseLostError when the token is stale.
   */
  suspend(request: SuspendRequest): Promise<SuspendResult>;

  /**
   * Moves a running flow to a terminal state, releasing the lease, and resets `abandonedRuns`
   * and `lastError`. When it is a child, its parent is woken if it waits on it (a parent whose
   * waits are unreadable is woken too). It must succeed for the lease holder whatever state the
   * flow's history, signals or parent are in: it is how a flow the store cannot serve is failed.
   * With `next`, the worker's next claim is made in the same call once the finish is written,
   * and its flows are in the result (`FinishResult.claimed`); a store may leave `next` unclaimed
   * and answer `undefined`, as a store that predates it does.
   * @throws LeaseLostError when the token is stale.
   */
  finishFlow(request: FinishRequest): Promise<FinishResult | undefined>;

  /**
   * Optional: several writes (of any flows) in one round trip, so a busy worker's
   * writes cost one store call instead of one each (DESIGN §7). Each write has exactly
   * the effect, result and error of its single call (fencing, first write wins, the
   * cancel flag, events), and they apply in order; a write that fails (a stale token)
   * writes nothing and fails alone, never its neighbours. The batch as a whole may
   * fail (the store is unreachable): then any of its writes may or may not have taken
   * effect, as with a single call. At most {@link MAX_BATCH_WRITES} writes. The runtime
   * wrapper gathers the writes made while another is in flight into one call to it;
   * a store without it gets its single calls.
   */
  applyWrites?(writes: readonly BatchWrite[]): Promise<BatchOutcome[]>;

  /**
   * Buffers a signal and wakes the flow if it is suspended waiting on that name.
   * @throws FlowNotFoundError, or FlowFinishedError when the flow is terminal.
   */
  sendSignal(request: SendSignalRequest): Promise<void>;

  /**
   * Requests cancellation. A pending or suspended flow is cancelled at once (its parent,
   * if waiting, is woken); a running one gets `cancelRequested`, its reason is stored as
   * its error, a `cancel-requested` event goes out, and it stops at its next durable
   * operation. A terminal flow is returned unchanged.
   * @throws FlowNotFoundError.
   */
  requestCancel(request: CancelRequest): Promise<FlowRecord>;

  /**
   * The earliest time a flow of these types and queues becomes claimable (a due `runAt`
   * or a lease expiry), or undefined when none will by time alone.
   */
  nextWakeAt(filter: WakeFilter): Promise<number | undefined>;

  /** Deletes terminal flows finished before the cut-off, with their history and signals. Returns how many. */
  purge(request: PurgeRequest): Promise<number>;

  /**
   * Registers or refreshes a worker (see `workers.ts`) and, in the same atomic
   * step, declares dead every other worker not heard from for `lapseMs`:
   * removes it and expires the leases it holds (`leaseExpiresAt = now`, a
   * `ready` event per queue). Returns the ids declared dead.
   *
   * Two rules keep a stall from being taken for deaths. A heartbeat never moves
   * a worker's last-seen time back (a late copy of an earlier beat, resent after
   * a lost connection, changes nothing). And a worker whose own previous
   * heartbeat had lapsed declares no one dead on that beat: its own silence
   * says its process or machine stalled, and the others' silence may be the
   * same stall (its next beat judges them).
   */
  heartbeatWorker(request: WorkerHeartbeat): Promise<HeartbeatResult>;

  /** The registered workers, in id order. */
  listWorkers(options?: ReadOptions): Promise<WorkerRecord[]>;

  /**
   * Removes a worker from the registry (a graceful stop, or a process known to be
   * gone) and, when `expireLeases`, expires the leases it holds. Returns how many
   * leases were expired. An unknown worker is not an error.
   */
  removeWorker(request: RemoveWorkerRequest): Promise<number>;

  /** Flow control (when `capabilities.flowControl`): sets or removes a queue's limits. */
  configureQueue?(request: ConfigureQueueRequest): Promise<void>;

  /** Flow control (when `capabilities.flowControl`): a queue's limits and what counts against them now. */
  getQueueState?(request: QueueStateRequest): Promise<QueueState>;

  /**
   * Events for idle workers and result waiters (when `capabilities.events`).
   * Returns an unsubscribe function.
   */
  subscribe?(listener: StoreListener): () => void;

  /**
   * Optional: creates a flow with its history and buffered signals in one atomic step,
   * first write wins by flow id (see `import-flow.ts`). Used by `client.fork` and
   * `ergon flows import`.
   */
  importFlow?(request: ImportFlowRequest): Promise<ImportFlowResult>;

  /** Releases connections. */
  close(): Promise<void>;
}
