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
 * concept: leases, history, lifecycle.
 *
 * @module
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
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
import { applyBatch, createBatch, type Savepoint } from './internal/batch.js';
import { Doorbell } from './internal/doorbell.js';
import { toErgonError } from './internal/errors.js';
import { changeSource, EventOutbox } from './internal/feed.js';
import { configureQueue, getQueueState } from './internal/flow-control.js';
import { consumeSignal, readHistory, recordFast, recordOperation } from './internal/history.js';
import { importFlow } from './internal/import.js';
import { claimFlows, nextWakeAt, releaseLease, renewLease } from './internal/leases.js';
import {
  createFlow,
  finishFlow,
  purgeBatch,
  requestCancel,
  sendSignal,
  suspend,
} from './internal/lifecycle.js';
import { listFlows } from './internal/list.js';
import { type ChangeNotifier, type ChangeSource, joinNotifier, leaveNotifier } from './internal/notifier.js';
import { type Connection, connect, prepareDatabase } from './internal/open.js';
import { setProgress } from './internal/progress.js';
import { prepareQueries, type TxContext } from './internal/queries.js';
import { toFlowRecord, toSignalRecord } from './internal/rows.js';
import { TransactionRunner } from './internal/runner.js';
import { SqliteSchedules } from './internal/schedules.js';
import { StatementCache } from './internal/statements.js';
import { heartbeatWorker, listWorkers, removeWorker } from './internal/workers.js';
import { type ResolvedOptions, resolveOptions, type SqliteExecutionLogOptions } from './options.js';

/** Flows deleted per purge transaction, so a purge never holds the write lock for long. */
const PURGE_BATCH = 100;

/** An {@link ExecutionLog} on a SQLite file. Create it with {@link SqliteExecutionLog.open}. */
export class SqliteExecutionLog implements ExecutionLog {
  /** Stable store name. */
  readonly name = 'sqlite';
  /** Events: commits of this process at once, of others through the doorbell and the poll. */
  readonly capabilities: StoreCapabilities = Object.freeze({
    events: true,
    flowControl: true,
    claimOnCreate: true,
  });
  /** Cron schedules, in the `schedules` table (`internal/schedules.ts`). */
  readonly schedules: ScheduleLog;
  readonly #connection: Connection;
  readonly #ctx: TxContext;
  readonly #outbox: EventOutbox;
  readonly #savepoint: Savepoint;
  readonly #runner: TransactionRunner;
  readonly #adhoc: StatementCache;
  readonly #notifier: ChangeNotifier;
  readonly #source: ChangeSource | undefined;
  readonly #subscriptions = new Set<() => void>();
  #closed = false;

  /**
   * Opens (creating when missing) and migrates a store.
   *
   * @throws InvalidArgumentError for bad options; ErgonError `STORE_FOREIGN` when the file is not an
   *   Ergon store (it is left untouched), `STORE_SCHEMA_TOO_NEW` when a newer version wrote it,
   *   `STORE_CORRUPT`, or `STORE_UNAVAILABLE` when it cannot be opened or stays locked.
   */
  static async open(options: SqliteExecutionLogOptions): Promise<SqliteExecutionLog> {
    const config = resolveOptions(options);
    const connection = connect(config);
    try {
      await prepareDatabase(connection, config);
      return new SqliteExecutionLog(config, connection);
    } catch (error) {
      if (connection.owned && connection.db.open) connection.db.close();
      throw toErgonError(error, connection.where);
    }
  }

  private constructor(config: ResolvedOptions, connection: Connection) {
    const { db } = connection;
    this.#connection = connection;
    const q = prepareQueries(db, connection.kysely);
    this.#adhoc = new StatementCache(db);
    // A private in-memory database has no other connection to tell or to listen to.
    this.#source = db.memory ? undefined : changeSource(db, q);
    this.#notifier = joinNotifier(connection.key, this.#source, {
      pollIntervalMs: config.pollIntervalMs,
      doorbell: this.#source && config.watch ? new Doorbell(connection.key) : undefined,
    });
    const outbox = new EventOutbox(q, this.#notifier, this.#source !== undefined);
    this.#outbox = outbox;
    this.#ctx = { q, emit: (event) => outbox.emit(event) };
    const nested = db.transaction((fn: () => unknown) => fn());
    // Inside the runner's transaction a nested better-sqlite3 transaction is a savepoint.
    this.#savepoint = <T>(fn: () => T) => nested(fn) as T;
    this.#runner = new TransactionRunner({
      db,
      where: connection.where,
      busyTimeoutMs: config.busyTimeoutMs,
      hooks: outbox,
    });
    this.schedules = new SqliteSchedules(db, connection.kysely as never, this.#runner);
  }

  /** The file this store uses (`:memory:` for a private in-memory database). */
  get path(): string {
    return this.#connection.where;
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.createFlow}. One IMMEDIATE transaction; `INSERT … ON CONFLICT
   * DO NOTHING`.
   */
  createFlow(input: NewFlow): Promise<CreateFlowResult> {
    return this.#runner.write(() => createFlow(this.#ctx, input));
  }

  /** Implements {@link @ergon/core!ExecutionLog.createFlows}: one IMMEDIATE transaction, a savepoint per create. */
  createFlows(inputs: readonly NewFlow[]): Promise<CreateOutcome[]> {
    return this.#runner.write(() => createBatch(this.#ctx, this.#outbox, this.#savepoint, inputs));
  }

  /** Implements {@link @ergon/core!ExecutionLog.importFlow}: one IMMEDIATE transaction (`internal/import.ts`). */
  importFlow(request: ImportFlowRequest): Promise<ImportFlowResult> {
    const ctx = { ...this.#ctx, kysely: this.#connection.kysely, adhoc: this.#adhoc };
    return this.#runner.write(() => importFlow(ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getFlow} */
  getFlow(flowId: string): Promise<FlowRecord | undefined> {
    return this.#runner.read(() => {
      const row = this.#ctx.q.flow.get({ id: flowId });
      return row ? toFlowRecord(row) : undefined;
    });
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.listFlows}. Keyset-paged on the `(created_at, id)` index.
   */
  listFlows(query: NormalizedFlowQuery): Promise<FlowPage> {
    return this.#runner.read(() => listFlows(this.#connection.kysely, this.#adhoc, query));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getHistory} */
  getHistory(flowId: string): Promise<OperationRecord[]> {
    return this.#runner.read(() => readHistory(this.#ctx, flowId));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getSignals} */
  getSignals(flowId: string): Promise<SignalRecord[]> {
    return this.#runner.read(() => this.#ctx.q.signals.all({ flowId }).map(toSignalRecord));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.claim}. Walks the `flows_claim` index per (queue, type).
   */
  claim(request: ClaimRequest): Promise<ClaimedFlow[]> {
    return this.#runner.write(() => claimFlows(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.configureQueue} */
  configureQueue(request: ConfigureQueueRequest): Promise<void> {
    return this.#runner.write(() => configureQueue(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getQueueState} */
  getQueueState(request: QueueStateRequest): Promise<QueueState> {
    return this.#runner.read(() => getQueueState(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.renewLease} */
  renewLease(lease: RenewRequest): Promise<RenewResult> {
    return this.#runner.write(() => ({ cancelRequested: renewLease(this.#ctx, lease) }));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.releaseLease} */
  releaseLease(lease: ReleaseRequest): Promise<void> {
    return this.#runner.write(() => releaseLease(this.#ctx, lease));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.recordOperation}. Fencing check and upsert in one statement;
   * when it writes nothing, in one IMMEDIATE transaction that finds out why.
   */
  recordOperation(request: RecordRequest): Promise<RecordResult> {
    const ctx = this.#ctx;
    return this.#runner.writeOne(
      () => recordFast(ctx, request),
      () => recordOperation(ctx, request),
    );
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.applyWrites}. One IMMEDIATE transaction for the batch, a
   * savepoint per write.
   */
  applyWrites(writes: readonly BatchWrite[]): Promise<BatchOutcome[]> {
    return this.#runner.write(() => applyBatch(this.#ctx, this.#outbox, this.#savepoint, writes));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.consumeSignal} */
  consumeSignal(request: ConsumeSignalRequest): Promise<RecordResult | undefined> {
    return this.#runner.write(() => consumeSignal(this.#ctx, request));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.setProgress}. One IMMEDIATE transaction: fence, write, event.
   */
  setProgress(request: ProgressRequest): Promise<ProgressResult> {
    return this.#runner.write(() => setProgress(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.suspend} */
  suspend(lease: SuspendRequest): Promise<SuspendResult> {
    return this.#runner.write(() => suspend(this.#ctx, lease));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.finishFlow} */
  finishFlow(request: FinishRequest): Promise<void> {
    return this.#runner.write(() => finishFlow(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.sendSignal} */
  sendSignal(signal: SendSignalRequest): Promise<void> {
    return this.#runner.write(() => sendSignal(this.#ctx, signal));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.requestCancel} */
  requestCancel(request: CancelRequest): Promise<FlowRecord> {
    return this.#runner.write(() => requestCancel(this.#ctx, request));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.nextWakeAt}. One index seek per (queue, type).
   */
  nextWakeAt(filter: WakeFilter): Promise<number | undefined> {
    return this.#runner.read(() => nextWakeAt(this.#ctx, filter));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.purge}. Deletes in transactions of 100 flows, so other
   * connections get the write lock in between.
   */
  async purge(request: PurgeRequest): Promise<number> {
    const { finishedBefore, limit } = request;
    let purged = 0;
    while (purged < limit) {
      const batch = Math.min(PURGE_BATCH, limit - purged);
      const deleted = await this.#runner.write(() => purgeBatch(this.#ctx, finishedBefore, batch));
      purged += deleted;
      if (deleted < batch) break;
      await yieldToLoop();
    }
    return purged;
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.heartbeatWorker}. One IMMEDIATE transaction: register, then
   * reap.
   */
  async heartbeatWorker(request: WorkerHeartbeat): Promise<HeartbeatResult> {
    return { reaped: await this.#runner.write(() => heartbeatWorker(this.#ctx, request)) };
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.listWorkers} */
  listWorkers(): Promise<WorkerRecord[]> {
    return this.#runner.read(() => listWorkers(this.#ctx));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.removeWorker} */
  removeWorker(request: RemoveWorkerRequest): Promise<number> {
    return this.#runner.write(() => removeWorker(this.#ctx, request));
  }

  /**
   * Store events: `ready` when a flow becomes claimable (now, or at `at`), `finished` when one
   * ends, `cancel-requested` and `progress` for a running one. Events of every connection to
   * the same file in this process arrive right after their commit; those of other processes as
   * soon as they ring the file's doorbell (`watch`), and at the latest within the poll interval
   * (`pollIntervalMs`).
   */
  subscribe(listener: StoreListener): () => void {
    const stop = this.#notifier.listen(listener);
    const unsubscribe = () => {
      stop();
      this.#subscriptions.delete(unsubscribe);
    };
    this.#subscriptions.add(unsubscribe);
    return unsubscribe;
  }

  /** Ends subscriptions and closes the connection if the store opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#runner.close();
    for (const unsubscribe of [...this.#subscriptions]) unsubscribe();
    leaveNotifier(this.#connection.key, this.#source);
    const { db, owned, kysely } = this.#connection;
    await kysely.destroy();
    if (owned && db.open) db.close();
  }
}

/** Opens a store; the same as {@link SqliteExecutionLog.open}. */
export function openSqliteExecutionLog(options: SqliteExecutionLogOptions): Promise<SqliteExecutionLog> {
  return SqliteExecutionLog.open(options);
}
