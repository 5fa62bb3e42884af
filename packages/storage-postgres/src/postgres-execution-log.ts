/**
 * `PostgresExecutionLog`: the store on PostgreSQL, through Kysely's PostgreSQL
 * dialect on `pg`. Its tables live in a schema of their own. Each primitive is
 * one statement where it can be (a history record, a claim of several flows, a
 * renewal, a release, the end of a flow without a parent) and otherwise one
 * READ COMMITTED transaction whose row locks make its check and its write see
 * the same state. Idle workers wake on LISTEN/NOTIFY; each NOTIFY goes out
 * with the COMMIT of the change it tells of.
 *
 * The work itself lives in `internal/` by concept: leases, history, lifecycle,
 * workers, lists; `internal/db.ts` holds the policies every call shares
 * (prepared statements, retries, error mapping).
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
import { FlowNotFoundError } from '@ergon/core';
import { applyBatch } from './internal/batch.js';
import { ReadCoalescer } from './internal/coalesce.js';
import type { Context } from './internal/context.js';
import { createBatch } from './internal/create-batch.js';
import { rows } from './internal/db.js';
import { configureQueue, getQueueState } from './internal/flow-control.js';
import { consumeSignal, readHistory, recordOperation } from './internal/history.js';
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
import { type Connection, connect } from './internal/open.js';
import { setProgress } from './internal/progress.js';
import { type FlowRow, toFlowRecord, toSignalRecord } from './internal/rows.js';
import { PostgresSchedules } from './internal/schedules.js';
import { heartbeatWorker, listWorkers, removeWorker } from './internal/workers.js';
import { type PostgresExecutionLogOptions, resolveOptions } from './options.js';

/** Flows deleted per purge statement, so a purge never holds many row locks for long. */
const PURGE_BATCH = 500;

/** An {@link ExecutionLog} on PostgreSQL. Create it with {@link PostgresExecutionLog.open}. */
export class PostgresExecutionLog implements ExecutionLog {
  /** Stable store name. */
  readonly name = 'postgres';
  /** Events through LISTEN/NOTIFY, from every process using the schema. */
  readonly capabilities: StoreCapabilities = Object.freeze({
    events: true,
    flowControl: true,
    claimOnCreate: true,
  });
  /** Cron schedules, in the `schedules` table (`internal/schedules.ts`). */
  readonly schedules: ScheduleLog;
  readonly #connection: Connection;
  readonly #ctx: Context;
  readonly #flows: ReadCoalescer<FlowRow>;
  #closed = false;

  /**
   * Connects, creates the schema and its tables when missing, and migrates them.
   *
   * @throws InvalidArgumentError for bad options; ErgonError `STORE_FOREIGN` when the schema holds
   *   tables of something else (left untouched), `STORE_SCHEMA_TOO_NEW` when a newer version migrated
   *   it, or `STORE_UNAVAILABLE` when the server cannot be reached or refuses the login.
   */
  static async open(options: PostgresExecutionLogOptions = {}): Promise<PostgresExecutionLog> {
    return new PostgresExecutionLog(await connect(resolveOptions(options)));
  }

  private constructor(connection: Connection) {
    this.#connection = connection;
    this.#ctx = connection.context;
    this.schedules = new PostgresSchedules(this.#ctx, connection.kysely as never);
    const { db, q } = this.#ctx;
    this.#flows = new ReadCoalescer(
      (ids) => rows(db.pool, q.flows, { ids }),
      (row) => row.id,
    );
  }

  /** The schema holding this store's tables. */
  get schema(): string {
    return this.#connection.schema;
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.createFlow}. `INSERT … ON CONFLICT DO NOTHING` and its NOTIFY,
   * one statement.
   */
  createFlow(input: NewFlow): Promise<CreateFlowResult> {
    if (input.claim !== undefined) return this.#createOne(input);
    return this.#ctx.db.call('create flow', 'idempotent', () => createFlow(this.#ctx, input));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.createFlows}. The flows without flow-control options in one
   * statement, a flow asked to be claimed inserted running when its queue has no limits; the others
   * one transaction each, in order after it.
   */
  createFlows(inputs: readonly NewFlow[]): Promise<CreateOutcome[]> {
    return this.#ctx.db.call('create flows', 'idempotent', (repeated) =>
      createBatch(this.#ctx, inputs, repeated),
    );
  }

  /** A create with a claim, through the batch path. */
  async #createOne(input: NewFlow): Promise<CreateFlowResult> {
    const [outcome] = await this.createFlows([input]);
    if (!outcome) throw new FlowNotFoundError(input.id);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Implements {@link @ergon/core!ExecutionLog.importFlow}: one transaction (`internal/import.ts`). */
  importFlow(request: ImportFlowRequest): Promise<ImportFlowResult> {
    return this.#ctx.db.call('import flow', 'never', () =>
      importFlow(this.#ctx, this.#connection.kysely, request),
    );
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.getFlow}. Reads asked for while one is in flight go together
   * in the next statement.
   */
  getFlow(flowId: string): Promise<FlowRecord | undefined> {
    return this.#ctx.db.call('get flow', 'idempotent', async () => {
      const row = await this.#flows.get(flowId);
      return row ? toFlowRecord(row) : undefined;
    });
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.listFlows}. Keyset-paged on the `(created_at, id)` index.
   */
  listFlows(query: NormalizedFlowQuery): Promise<FlowPage> {
    const { db } = this.#ctx;
    return db.call('list flows', 'idempotent', () => listFlows(this.#connection.kysely, db.pool, query));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getHistory} */
  getHistory(flowId: string): Promise<OperationRecord[]> {
    return this.#ctx.db.call('get history', 'idempotent', () => readHistory(this.#ctx, flowId));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getSignals} */
  getSignals(flowId: string): Promise<SignalRecord[]> {
    const { db, q } = this.#ctx;
    return db.call('get signals', 'idempotent', async () =>
      (await rows(db.pool, q.signals, { id: flowId })).map(toSignalRecord),
    );
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.claim}. One statement: `FOR UPDATE SKIP LOCKED` per (queue,
   * type) on the claim index, the best `limit` updated. Not repeated when the connection is lost (the claim
   * may have been made): its leases then expire.
   */
  claim(request: ClaimRequest): Promise<ClaimedFlow[]> {
    return this.#ctx.db.call('claim', 'never', () => claimFlows(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.configureQueue} */
  configureQueue(request: ConfigureQueueRequest): Promise<void> {
    return this.#ctx.db.call('configure queue', 'idempotent', () => configureQueue(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getQueueState} */
  getQueueState(request: QueueStateRequest): Promise<QueueState> {
    return this.#ctx.db.call('read queue state', 'idempotent', () => getQueueState(this.#ctx, request));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.renewLease}. One fenced `UPDATE`.
   */
  renewLease(lease: RenewRequest): Promise<RenewResult> {
    return this.#ctx.db.call('renew lease', 'idempotent', () => renewLease(this.#ctx, lease));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.releaseLease}. One fenced `UPDATE` and its NOTIFY.
   */
  releaseLease(lease: ReleaseRequest): Promise<void> {
    return this.#ctx.db.call('release lease', 'idempotent', () => releaseLease(this.#ctx, lease));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.recordOperation}. Fencing check and first-write-wins upsert in
   * one statement; when it writes nothing, a transaction finds out why.
   */
  recordOperation(request: RecordRequest): Promise<RecordResult> {
    return this.#ctx.db.call('record operation', 'idempotent', () => recordOperation(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.consumeSignal} */
  consumeSignal(request: ConsumeSignalRequest): Promise<RecordResult | undefined> {
    return this.#ctx.db.call('consume signal', 'idempotent', () => consumeSignal(this.#ctx, request));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.setProgress}. One fenced `UPDATE` and its NOTIFY.
   */
  setProgress(request: ProgressRequest): Promise<ProgressResult> {
    return this.#ctx.db.call('set progress', 'idempotent', () => setProgress(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.suspend} */
  suspend(request: SuspendRequest): Promise<SuspendResult> {
    return this.#ctx.db.call('suspend', 'idempotent', (repeated) => suspend(this.#ctx, request, repeated));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.applyWrites}. The records and finishes of many
   * flows in one statement: one round trip and one commit instead of one per write.
   */
  applyWrites(writes: readonly BatchWrite[]): Promise<BatchOutcome[]> {
    return this.#ctx.db.call('apply writes', 'idempotent', (repeated) =>
      applyBatch(this.#ctx, writes, repeated),
    );
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.finishFlow}. One statement for a flow without a parent.
   */
  finishFlow(request: FinishRequest): Promise<void> {
    return this.#ctx.db.call('finish flow', 'idempotent', (repeated) =>
      finishFlow(this.#ctx, request, repeated),
    );
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.sendSignal}. Not repeated when the connection is lost: the
   * signal may have been buffered, and a second one would be a duplicate.
   */
  sendSignal(signal: SendSignalRequest): Promise<void> {
    return this.#ctx.db.call('send signal', 'never', () => sendSignal(this.#ctx, signal));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.requestCancel} */
  requestCancel(request: CancelRequest): Promise<FlowRecord> {
    return this.#ctx.db.call('cancel', 'idempotent', () => requestCancel(this.#ctx, request));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.nextWakeAt}. One index seek per (queue, type).
   */
  nextWakeAt(filter: WakeFilter): Promise<number | undefined> {
    return this.#ctx.db.call('read next wake-up', 'idempotent', () => nextWakeAt(this.#ctx, filter));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.purge}. Deletes in statements of at most 500 flows.
   */
  purge(request: PurgeRequest): Promise<number> {
    return this.#ctx.db.call('purge', 'idempotent', async () => {
      let purged = 0;
      while (purged < request.limit) {
        const batch = Math.min(PURGE_BATCH, request.limit - purged);
        const deleted = await purgeBatch(this.#ctx, request.finishedBefore, batch);
        purged += deleted;
        if (deleted < batch) break;
      }
      return purged;
    });
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.heartbeatWorker}. One statement: register, reap, expire,
   * notify.
   */
  heartbeatWorker(request: WorkerHeartbeat): Promise<HeartbeatResult> {
    return this.#ctx.db.call('worker heartbeat', 'idempotent', () => heartbeatWorker(this.#ctx, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.listWorkers} */
  listWorkers(): Promise<WorkerRecord[]> {
    return this.#ctx.db.call('list workers', 'idempotent', () => listWorkers(this.#ctx));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.removeWorker} */
  removeWorker(request: RemoveWorkerRequest): Promise<number> {
    return this.#ctx.db.call('remove worker', 'idempotent', () => removeWorker(this.#ctx, request));
  }

  /**
   * Store events: `ready` when a flow becomes claimable (now, or at `at`), `finished` when one
   * ends, `cancel-requested` when a running one is asked to stop, `progress` when one reports
   * progress; from every process using the
   * schema, each after its commit. The first subscription opens the LISTEN connection, which
   * stays open until `close()` and reconnects by itself.
   */
  subscribe(listener: StoreListener): () => void {
    return this.#ctx.listener.listen(listener);
  }

  /** Ends subscriptions, and the pool if the store created it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#connection.close();
  }
}

/** Opens a store; the same as {@link PostgresExecutionLog.open}. */
export function openPostgresExecutionLog(
  options: PostgresExecutionLogOptions = {},
): Promise<PostgresExecutionLog> {
  return PostgresExecutionLog.open(options);
}
