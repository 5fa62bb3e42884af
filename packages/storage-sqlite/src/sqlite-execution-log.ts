/**
 * `SqliteExecutionLog`: the embedded default store. One SQLite file in WAL
 * mode, safe for many connections and processes: every write primitive is one
 * `BEGIN IMMEDIATE` transaction (or, for a history record, one statement, which
 * SQLite runs as a transaction that locks first), so the fencing check and the
 * write it guards see the same state, and a lock held by another connection is
 * waited out instead of surfacing as `SQLITE_BUSY`.
 *
 * better-sqlite3 is synchronous: each method does its work at once and returns
 * a settled promise (unless it must wait for a lock), so calls on one
 * connection never interleave. The work itself lives in `internal/` by
 * concept: leases, history, lifecycle, purge, flow control, workers; what an
 * open store is made of, and its opening and closing, in `internal/core.ts`.
 *
 * @module
 */
import type {
  BatchOutcome,
  BatchWrite,
  CancelRequest,
  ClaimedFlow,
  ClaimRequest,
  ConfigureQueueRequest,
  ConsumeSignalRequest,
  CreateFlowResult,
  CreateOutcome,
  ExecutionLog,
  FinishRequest,
  FinishResult,
  FlowPage,
  FlowRecord,
  HeartbeatResult,
  ImportFlowRequest,
  ImportFlowResult,
  NewFlow,
  NormalizedFlowQuery,
  OperationRecord,
  ProgressRequest,
  ProgressResult,
  PurgeRequest,
  QueueState,
  QueueStateRequest,
  RecordRequest,
  RecordResult,
  ReleaseRequest,
  RemoveWorkerRequest,
  RenewRequest,
  RenewResult,
  ScheduleLog,
  SendSignalRequest,
  SignalRecord,
  StoreCapabilities,
  StoreListener,
  SuspendRequest,
  SuspendResult,
  WakeFilter,
  WorkerHeartbeat,
  WorkerRecord,
} from '@ergon/core';
import { applyBatch, createBatch } from './internal/batch.js';
import { openStore, type StoreCore } from './internal/core.js';
import { finishAndClaim } from './internal/finish-claims.js';
import { configureQueue, getQueueState } from './internal/flow-control.js';
import type { GroupCommit } from './internal/group-commit.js';
import { consumeSignal, readHistory, recordFast, recordOperation } from './internal/history.js';
import { importFlow } from './internal/import.js';
import { claimFlows, nextWakeAt, releaseLease, renewLease } from './internal/leases.js';
import { createFlow, requestCancel, sendSignal, suspend } from './internal/lifecycle.js';
import { listFlows } from './internal/list.js';
import { setProgress } from './internal/progress.js';
import { purgeFinished } from './internal/purge.js';
import type { TxContext } from './internal/queries.js';
import { toFlowRecord, toSignalRecord } from './internal/rows.js';
import { heartbeatWorker, listWorkers, removeWorker } from './internal/workers.js';
import type { SqliteExecutionLogOptions } from './options.js';

/** An {@link ExecutionLog} on a SQLite file. Create it with {@link SqliteExecutionLog.open}. */
export class SqliteExecutionLog implements ExecutionLog {
  /** Stable store name. */
  readonly name = 'sqlite';
  /** Events: commits of this process at once, of others through the doorbell and the poll. */
  readonly capabilities: StoreCapabilities = Object.freeze({
    events: true,
    flowControl: true,
    claimOnCreate: true,
    finishClaims: true,
  });
  /** Cron schedules, in the `schedules` table (`internal/schedules.ts`). */
  readonly schedules: ScheduleLog;
  readonly #core: StoreCore;
  // The two parts every call uses, at hand.
  readonly #ctx: TxContext;
  readonly #group: GroupCommit;
  #closed = false;

  /**
   * Opens (creating when missing) and migrates a store.
   *
   * @throws InvalidArgumentError for bad options; ErgonError `STORE_FOREIGN` when the file is not an
   *   Ergon store (it is left untouched), `STORE_SCHEMA_TOO_NEW` when a newer version wrote it,
   *   `STORE_CORRUPT`, or `STORE_UNAVAILABLE` when it cannot be opened or stays locked.
   */
  static async open(options: SqliteExecutionLogOptions): Promise<SqliteExecutionLog> {
    return new SqliteExecutionLog(await openStore(options));
  }

  private constructor(core: StoreCore) {
    this.#core = core;
    this.#ctx = core.ctx;
    this.#group = core.group;
    this.schedules = core.schedules;
  }

  /** The file this store uses (`:memory:` for a private in-memory database). */
  get path(): string {
    return this.#core.connection.where;
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.createFlow}. One IMMEDIATE transaction; `INSERT … ON CONFLICT
   * DO NOTHING`.
   */
  createFlow(input: NewFlow): Promise<CreateFlowResult> {
    return this.#group.write(() => createFlow(this.#ctx, input));
  }

  /** Implements {@link @ergon/core!ExecutionLog.createFlows}: one IMMEDIATE transaction, each create apart. */
  createFlows(inputs: readonly NewFlow[]): Promise<CreateOutcome[]> {
    const { apart } = this.#core;
    return this.#group.write(() => createBatch(this.#ctx, apart, inputs));
  }

  /** Implements {@link @ergon/core!ExecutionLog.importFlow}: one IMMEDIATE transaction (`internal/import.ts`). */
  importFlow(request: ImportFlowRequest): Promise<ImportFlowResult> {
    const ctx = { ...this.#ctx, kysely: this.#core.connection.kysely, adhoc: this.#core.adhoc };
    return this.#group.write(() => importFlow(ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getFlow} */
  getFlow(flowId: string): Promise<FlowRecord | undefined> {
    return this.#group.read(() => {
      const row = this.#ctx.q.flow.get({ id: flowId });
      return row ? toFlowRecord(row) : undefined;
    });
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.listFlows}. Keyset-paged on the `(created_at, id)` index.
   */
  listFlows(query: NormalizedFlowQuery): Promise<FlowPage> {
    const { connection, adhoc } = this.#core;
    return this.#group.read(() => listFlows(connection.kysely, adhoc, query));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getHistory} */
  getHistory(flowId: string): Promise<OperationRecord[]> {
    return this.#group.read(() => readHistory(this.#ctx, flowId));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getSignals} */
  getSignals(flowId: string): Promise<SignalRecord[]> {
    return this.#group.read(() => this.#ctx.q.signals.all({ flowId }).map(toSignalRecord));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.claim}. Walks the `flows_ready` index per (queue, type), and `flows_running` for expired leases.
   */
  claim(request: ClaimRequest): Promise<ClaimedFlow[]> {
    return this.#group.write(() => claimFlows(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.configureQueue} */
  configureQueue(request: ConfigureQueueRequest): Promise<void> {
    return this.#group.write(() => configureQueue(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getQueueState} */
  getQueueState(request: QueueStateRequest): Promise<QueueState> {
    return this.#group.read(() => getQueueState(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.renewLease} */
  renewLease(lease: RenewRequest): Promise<RenewResult> {
    return this.#group.write(() => ({ cancelRequested: renewLease(this.#ctx, lease) }));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.releaseLease} */
  releaseLease(lease: ReleaseRequest): Promise<void> {
    return this.#group.write(() => releaseLease(this.#ctx, lease));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.recordOperation}. Fencing check and upsert in one statement;
   * when it writes nothing, in one IMMEDIATE transaction that finds out why.
   */
  recordOperation(request: RecordRequest): Promise<RecordResult> {
    const ctx = this.#ctx;
    return this.#group.writeOne(
      () => recordFast(ctx, request),
      () => recordOperation(ctx, request),
    );
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.applyWrites}. One IMMEDIATE transaction for the batch, a
   * write kept apart (`internal/batch.ts`).
   */
  applyWrites(writes: readonly BatchWrite[]): Promise<BatchOutcome[]> {
    const { apart } = this.#core;
    return this.#group.write(() => applyBatch(this.#ctx, apart, writes));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.consumeSignal} */
  consumeSignal(request: ConsumeSignalRequest): Promise<RecordResult | undefined> {
    return this.#group.write(() => consumeSignal(this.#ctx, request));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.setProgress}. One IMMEDIATE transaction: fence, write, event.
   */
  setProgress(request: ProgressRequest): Promise<ProgressResult> {
    return this.#group.write(() => setProgress(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.suspend} */
  suspend(lease: SuspendRequest): Promise<SuspendResult> {
    return this.#group.write(() => suspend(this.#ctx, lease));
  }

  /** Implements {@link @ergon/core!ExecutionLog.finishFlow}: with `next`, claims in its transaction. */
  finishFlow(request: FinishRequest): Promise<FinishResult | undefined> {
    return this.#group.write(() => finishAndClaim(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.sendSignal} */
  sendSignal(signal: SendSignalRequest): Promise<void> {
    return this.#group.write(() => sendSignal(this.#ctx, signal));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.requestCancel} */
  requestCancel(request: CancelRequest): Promise<FlowRecord> {
    return this.#group.write(() => requestCancel(this.#ctx, request));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.nextWakeAt}. One index seek per (queue, type).
   */
  nextWakeAt(filter: WakeFilter): Promise<number | undefined> {
    return this.#group.read(() => nextWakeAt(this.#ctx, filter));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.purge}. Deletes in transactions of 100 flows, so other
   * connections get the write lock in between.
   */
  purge(request: PurgeRequest): Promise<number> {
    return purgeFinished(this.#core, request);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.heartbeatWorker}. One IMMEDIATE transaction: register, then
   * reap.
   */
  async heartbeatWorker(request: WorkerHeartbeat): Promise<HeartbeatResult> {
    return { reaped: await this.#group.write(() => heartbeatWorker(this.#ctx, request)) };
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.listWorkers} */
  listWorkers(): Promise<WorkerRecord[]> {
    return this.#group.read(() => listWorkers(this.#ctx));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.removeWorker} */
  removeWorker(request: RemoveWorkerRequest): Promise<number> {
    return this.#group.write(() => removeWorker(this.#ctx, request));
  }

  /**
   * Store events: `ready` when a flow becomes claimable (now, or at `at`), `finished` when one
   * ends, `cancel-requested` and `progress` for a running one. Events of every connection to
   * the same file in this process arrive right after their commit; those of other processes as
   * soon as they ring the file's doorbell (`watch`), and at the latest within the poll interval
   * (`pollIntervalMs`).
   */
  subscribe(listener: StoreListener): () => void {
    return this.#core.subscribe(listener);
  }

  /** Ends subscriptions and closes the connection if the store opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#core.close();
  }
}

/** Opens a store; the same as {@link SqliteExecutionLog.open}. */
export function openSqliteExecutionLog(options: SqliteExecutionLogOptions): Promise<SqliteExecutionLog> {
  return SqliteExecutionLog.open(options);
}
