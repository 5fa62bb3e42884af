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
 * workers, lists; `internal/calls.ts` names each call and says whether it may
 * run again after a lost connection, and `internal/db.ts` holds the policies
 * every call shares (prepared statements, retries, error mapping).
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
import { type StoreCalls, storeCalls } from './internal/calls.js';
import type { Context } from './internal/context.js';
import { type Connection, connect } from './internal/open.js';
import { PostgresSchedules } from './internal/schedules.js';
import { type PostgresExecutionLogOptions, resolveOptions } from './options.js';

/** An {@link ExecutionLog} on PostgreSQL. Create it with {@link PostgresExecutionLog.open}. */
export class PostgresExecutionLog implements ExecutionLog {
  /** Stable store name. */
  readonly name = 'postgres';
  /**
   * Events through LISTEN/NOTIFY, from every process using the schema; a create hands a new flow
   * to a parked worker in its own statement (`internal/hand-off.ts`).
   */
  readonly capabilities: StoreCapabilities = Object.freeze({
    events: true,
    flowControl: true,
    claimOnCreate: true,
    handOff: true,
    finishClaims: true,
  });
  /** Cron schedules, in the `schedules` table (`internal/schedules.ts`). */
  readonly schedules: ScheduleLog;
  readonly #connection: Connection;
  readonly #ctx: Context;
  readonly #calls: StoreCalls;
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
    this.#calls = storeCalls(this.#ctx, connection.kysely);
  }

  /** The schema holding this store's tables. */
  get schema(): string {
    return this.#connection.schema;
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.createFlow}. `INSERT … ON CONFLICT DO NOTHING` and its NOTIFY,
   * one statement; a create with a claim goes the way of `createFlows`.
   */
  createFlow(input: NewFlow): Promise<CreateFlowResult> {
    return this.#calls.createFlow(input);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.createFlows}. The flows without flow-control options in one
   * statement, a flow asked to be claimed inserted running when its queue has no limits; the others
   * one transaction each, in order after it.
   */
  createFlows(inputs: readonly NewFlow[]): Promise<CreateOutcome[]> {
    return this.#calls.createFlows(inputs);
  }

  /** Implements {@link @ergon/core!ExecutionLog.importFlow}: one transaction (`internal/import.ts`). */
  importFlow(request: ImportFlowRequest): Promise<ImportFlowResult> {
    return this.#calls.importFlow(request);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.getFlow}. Reads asked for while one is in flight go together
   * in the next statement.
   */
  getFlow(flowId: string): Promise<FlowRecord | undefined> {
    return this.#calls.getFlow(flowId);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.listFlows}. Keyset-paged on the `(created_at, id)` index.
   */
  listFlows(query: NormalizedFlowQuery): Promise<FlowPage> {
    return this.#calls.listFlows(query);
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getHistory} */
  getHistory(flowId: string): Promise<OperationRecord[]> {
    return this.#calls.getHistory(flowId);
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getSignals} */
  getSignals(flowId: string): Promise<SignalRecord[]> {
    return this.#calls.getSignals(flowId);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.claim}. One statement: `FOR UPDATE SKIP LOCKED` per (queue,
   * type) on the claim index, the best `limit` updated. Not repeated when the connection is lost (the claim
   * may have been made): its leases then expire.
   */
  claim(request: ClaimRequest): Promise<ClaimedFlow[]> {
    return this.#calls.claim(request);
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.configureQueue} */
  configureQueue(request: ConfigureQueueRequest): Promise<void> {
    return this.#calls.configureQueue(request);
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.getQueueState} */
  getQueueState(request: QueueStateRequest): Promise<QueueState> {
    return this.#calls.getQueueState(request);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.renewLease}. One fenced `UPDATE`.
   */
  renewLease(lease: RenewRequest): Promise<RenewResult> {
    return this.#calls.renewLease(lease);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.releaseLease}. One fenced `UPDATE` and its NOTIFY.
   */
  releaseLease(lease: ReleaseRequest): Promise<void> {
    return this.#calls.releaseLease(lease);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.recordOperation}. Fencing check and first-write-wins upsert in
   * one statement; when it writes nothing, a transaction finds out why.
   */
  recordOperation(request: RecordRequest): Promise<RecordResult> {
    return this.#calls.recordOperation(request);
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.consumeSignal} */
  consumeSignal(request: ConsumeSignalRequest): Promise<RecordResult | undefined> {
    return this.#calls.consumeSignal(request);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.setProgress}. One fenced `UPDATE` and its NOTIFY.
   */
  setProgress(request: ProgressRequest): Promise<ProgressResult> {
    return this.#calls.setProgress(request);
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.suspend} */
  suspend(request: SuspendRequest): Promise<SuspendResult> {
    return this.#calls.suspend(request);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.applyWrites}. The records and finishes of many
   * flows in one statement: one round trip and one commit instead of one per write.
   */
  applyWrites(writes: readonly BatchWrite[]): Promise<BatchOutcome[]> {
    return this.#calls.applyWrites(writes);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.finishFlow}. One statement for a flow without a parent,
   * its `next` claim included (`internal/batch-next.ts`).
   */
  finishFlow(request: FinishRequest): Promise<FinishResult | undefined> {
    return this.#calls.finishFlow(request);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.sendSignal}. Not repeated when the connection is lost: the
   * signal may have been buffered, and a second one would be a duplicate.
   */
  sendSignal(signal: SendSignalRequest): Promise<void> {
    return this.#calls.sendSignal(signal);
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.requestCancel} */
  requestCancel(request: CancelRequest): Promise<FlowRecord> {
    return this.#calls.requestCancel(request);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.nextWakeAt}. One index seek per (queue, type).
   */
  nextWakeAt(filter: WakeFilter): Promise<number | undefined> {
    return this.#calls.nextWakeAt(filter);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.purge}. Deletes in statements of at most 500 flows.
   */
  purge(request: PurgeRequest): Promise<number> {
    return this.#calls.purge(request);
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.heartbeatWorker}. One statement: register, reap, expire,
   * notify.
   */
  heartbeatWorker(request: WorkerHeartbeat): Promise<HeartbeatResult> {
    return this.#calls.heartbeatWorker(request);
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.listWorkers} */
  listWorkers(): Promise<WorkerRecord[]> {
    return this.#calls.listWorkers();
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.removeWorker} */
  removeWorker(request: RemoveWorkerRequest): Promise<number> {
    return this.#calls.removeWorker(request);
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
