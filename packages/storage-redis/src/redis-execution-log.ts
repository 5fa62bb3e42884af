/**
 * `RedisExecutionLog`: the storage contract on Redis through ioredis. Every
 * change that touches more than one key is one Lua script (`src/scripts`), so
 * each primitive is atomic; reads of one key go straight to Redis. Flows are
 * spread over P partitions, each a hash tag of its own (`internal/partitions.ts`),
 * and every script runs in one of them.
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
import { applyWrites } from './internal/apply.js';
import { leaseContext } from './internal/args.js';
import { claimNamed, claimReady, nextWake } from './internal/claims.js';
import { closeClient, type RedisClient } from './internal/connection.js';
import type { StoreCore } from './internal/core.js';
import { type ErrorContext, toStoreError } from './internal/errors.js';
import { finishFlow } from './internal/finish.js';
import { createFlow, getFlow, getHistory, getSignals, importFlow } from './internal/flows.js';
import * as leases from './internal/leases.js';
import { listFlows, purge } from './internal/listing.js';
import { connectStore, type StoreParts } from './internal/open.js';
import { HOME } from './internal/partitions.js';
import { configureQueue, getQueueState } from './internal/queues.js';
import { recordOperation } from './internal/record.js';
import { RedisSchedules } from './internal/schedules.js';
import { heartbeatWorker, listWorkers, removeWorker } from './internal/workers.js';
import type { RedisExecutionLogOptions } from './options.js';

/**
 * An {@link ExecutionLog} on Redis. Create it with {@link RedisExecutionLog.open}
 * (or {@link createRedisExecutionLog}), which connects, loads the scripts,
 * refuses an eviction policy that could delete state and checks the partition count.
 */
export class RedisExecutionLog implements ExecutionLog {
  /** Stable store name. */
  readonly name = 'redis';
  /**
   * Events through Redis pub/sub, best effort (workers keep a fallback poll); a create that asks
   * for a claim is claimed in the same script, and so is a finish's next claim (with several
   * partitions, in a claim of its own right after the finish). Hand-off (a create claiming the new flow for a
   * parked worker) with one partition and no `waitForReplicas` (a handed flow would start
   * before its claim reached the replicas).
   */
  readonly capabilities: StoreCapabilities;
  /** The key prefix: keys are `{prefix}:…` with one partition, `{prefix#i…}:…` with more. */
  readonly prefix: string;
  /** How many partitions the store's flows are spread over (fixed when the prefix was created). */
  readonly partitions: number;
  /** Cron schedules, a hash each in the home partition (`internal/schedules.ts`). */
  readonly schedules: ScheduleLog;
  readonly #core: StoreCore;
  readonly #subscriber: RedisClient;
  #closing: Promise<void> | undefined;

  private constructor(parts: StoreParts) {
    this.#core = parts.core;
    this.#subscriber = parts.subscriber;
    this.prefix = parts.core.options.prefix;
    this.partitions = parts.core.layout.count;
    this.capabilities = Object.freeze({
      events: true,
      flowControl: true,
      claimOnCreate: true,
      finishClaims: true,
      handOff: parts.core.handsOff,
    });
    this.schedules = new RedisSchedules(parts.core.runner, parts.core.layout.keys(HOME));
  }

  /**
   * Connects, defines the scripts, checks `maxmemory-policy`, reads (or records) the
   * partition count and subscribes to store events. On failure every connection it
   * opened is closed again.
   *
   * @throws InvalidArgumentError (`INVALID_ARGUMENT`) for bad options, or a `partitions`
   *   option other than the prefix's stored count;
   *   ErgonError `STORE_UNSAFE_CONFIG` for an eviction policy that may delete state;
   *   StoreUnavailableError when Redis cannot be reached.
   */
  static async open(options: RedisExecutionLogOptions = {}): Promise<RedisExecutionLog> {
    return new RedisExecutionLog(await connectStore(options));
  }

  /** The hash tag of each partition (without braces), by number: where its keys live. */
  get partitionTags(): readonly string[] {
    return this.#core.layout.parts.map((keys) => keys.base.slice(1, -2));
  }

  createFlow(input: NewFlow): Promise<CreateFlowResult> {
    return this.#call({ action: 'create flow', flowId: input.id }, () => createFlow(this.#core, input));
  }

  /** Implements {@link @ergon/core!ExecutionLog.importFlow}. One script (import-flow): first write wins by id. */
  importFlow(request: ImportFlowRequest): Promise<ImportFlowResult> {
    return this.#call({ action: 'import flow', flowId: request.flow.id }, () =>
      importFlow(this.#core, request),
    );
  }

  getFlow(flowId: string): Promise<FlowRecord | undefined> {
    return this.#call({ action: 'get flow', flowId }, () => getFlow(this.#core, flowId));
  }

  listFlows(query: NormalizedFlowQuery): Promise<FlowPage> {
    return this.#call({ action: 'list flows' }, () => listFlows(this.#core, query));
  }

  getHistory(flowId: string): Promise<OperationRecord[]> {
    return this.#call({ action: 'get history', flowId }, () => getHistory(this.#core, flowId));
  }

  getSignals(flowId: string): Promise<SignalRecord[]> {
    return this.#call({ action: 'get signals', flowId }, () => getSignals(this.#core, flowId));
  }

  claim(request: ClaimRequest): Promise<ClaimedFlow[]> {
    const { flowId } = request;
    return this.#call({ action: 'claim' }, () =>
      flowId === undefined ? claimReady(this.#core, request) : claimNamed(this.#core, { ...request, flowId }),
    );
  }

  /** Implements {@link @ergon/core!ExecutionLog.configureQueue}: one script (configure-queue) per partition. */
  async configureQueue(request: ConfigureQueueRequest): Promise<void> {
    await this.#call({ action: 'configure queue' }, () => configureQueue(this.#core, request));
  }

  /** Implements {@link @ergon/core!ExecutionLog.getQueueState}: one script (queue-state) in the home partition. */
  getQueueState(request: QueueStateRequest): Promise<QueueState> {
    return this.#call({ action: 'read queue state' }, () => getQueueState(this.#core, request));
  }

  renewLease(lease: RenewRequest): Promise<RenewResult> {
    return this.#call(leaseContext('renew lease', lease), () => leases.renewLease(this.#core, lease));
  }

  async releaseLease(lease: ReleaseRequest): Promise<void> {
    await this.#call(leaseContext('release lease', lease), () => leases.releaseLease(this.#core, lease));
  }

  /** Implements {@link @ergon/core!ExecutionLog.recordOperation}: one script, errors mapped as `#call` does. */
  recordOperation(request: RecordRequest): Promise<RecordResult> {
    return recordOperation(this.#core, request);
  }

  /** Implements {@link @ergon/core!ExecutionLog.setProgress}. One script: fence, write, publish. */
  setProgress(request: ProgressRequest): Promise<ProgressResult> {
    return this.#call(leaseContext('set progress', request), () => leases.setProgress(this.#core, request));
  }

  consumeSignal(request: ConsumeSignalRequest): Promise<RecordResult | undefined> {
    return this.#call(leaseContext(`consume signal '${request.name}'`, request), () =>
      leases.consumeSignal(this.#core, request),
    );
  }

  suspend(lease: SuspendRequest): Promise<SuspendResult> {
    return this.#call(leaseContext('suspend', lease), () => leases.suspend(this.#core, lease));
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.finishFlow}. One script (finish-flow); with `next`,
   * the claim in the same script (finish-claim), or after it in a claim of its own when the store
   * has several partitions (`internal/next.ts`).
   */
  finishFlow(request: FinishRequest): Promise<FinishResult | undefined> {
    return this.#call(leaseContext(`finish flow as ${request.status}`, request), () =>
      finishFlow(this.#core, request),
    );
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.applyWrites}. One script per partition the
   * batch touches (apply-writes), each write as its own script would run it.
   */
  applyWrites(writes: readonly BatchWrite[]): Promise<BatchOutcome[]> {
    if (writes.length === 0) return Promise.resolve([]);
    return this.#call({ action: `apply ${writes.length} writes` }, () => applyWrites(this.#core, writes));
  }

  async sendSignal(signal: SendSignalRequest): Promise<void> {
    await this.#call({ action: `signal '${signal.name}'`, flowId: signal.flowId }, () =>
      leases.sendSignal(this.#core, signal),
    );
  }

  requestCancel(request: CancelRequest): Promise<FlowRecord> {
    return this.#call({ action: 'cancel', flowId: request.flowId }, () =>
      leases.requestCancel(this.#core, request),
    );
  }

  nextWakeAt(filter: WakeFilter): Promise<number | undefined> {
    return this.#call({ action: 'read next wake-up' }, () => nextWake(this.#core, filter));
  }

  purge(request: PurgeRequest): Promise<number> {
    return this.#call({ action: 'purge' }, () => purge(this.#core, request));
  }

  /** Implements {@link @ergon/core!ExecutionLog.heartbeatWorker}. One script: register, then reap. */
  heartbeatWorker(request: WorkerHeartbeat): Promise<HeartbeatResult> {
    return this.#call({ action: 'worker heartbeat' }, () => heartbeatWorker(this.#core, request));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.listWorkers} */
  listWorkers(): Promise<WorkerRecord[]> {
    return this.#call({ action: 'list workers' }, () => listWorkers(this.#core));
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.removeWorker} */
  removeWorker(request: RemoveWorkerRequest): Promise<number> {
    return this.#call({ action: 'remove worker' }, () => removeWorker(this.#core, request));
  }

  /**
   * Store events from every process using this prefix, through Redis pub/sub.
   * Delivery is best effort: events published while the subscriber is
   * reconnecting are lost, so a worker keeps a fallback poll (`nextWakeAt`).
   */
  subscribe(listener: StoreListener): () => void {
    this.#core.listeners.add(listener);
    return () => {
      this.#core.listeners.delete(listener);
    };
  }

  /** Closes the subscriber, and the command connection when the store created it. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#core.listeners.clear();
      this.#subscriber.disconnect();
      const { ownsClient, client, options } = this.#core;
      if (ownsClient) await closeClient(client, Math.min(options.commandTimeoutMs, 2000));
    })();
    return this.#closing;
  }

  async #call<T>(context: ErrorContext, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      this.#core.runner.noteError(error);
      throw toStoreError(error, context);
    }
  }
}

/** Opens a {@link RedisExecutionLog}; see {@link RedisExecutionLog.open}. */
export function createRedisExecutionLog(options: RedisExecutionLogOptions = {}): Promise<RedisExecutionLog> {
  return RedisExecutionLog.open(options);
}
