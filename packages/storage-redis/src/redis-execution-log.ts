/**
 * `RedisExecutionLog`: the storage contract on Redis through ioredis. Every
 * change that touches more than one key is one Lua script (`src/scripts`), so
 * each primitive is atomic; reads of one key go straight to Redis.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  type BatchOutcome,
  type BatchWrite,
  type CancelRequest,
  type ClaimedFlow,
  type ClaimRequest,
  type ConfigureQueueRequest,
  type ConsumeSignalRequest,
  type CreateFlowResult,
  type ExecutionLog,
  encodeCursor,
  type FinishRequest,
  type FlowPage,
  type FlowRecord,
  type HeartbeatResult,
  hasLimits,
  type ImportFlowRequest,
  type ImportFlowResult,
  type NewFlow,
  type NormalizedFlowQuery,
  type OperationRecord,
  type ProgressRequest,
  type ProgressResult,
  type PurgeRequest,
  type QueueLimits,
  type QueueState,
  type QueueStateRequest,
  type RecordRequest,
  type RecordResult,
  type ReleaseRequest,
  type RemoveWorkerRequest,
  type RenewRequest,
  type RenewResult,
  type SendSignalRequest,
  type SignalRecord,
  type StoreCapabilities,
  type StoreListener,
  type SuspendRequest,
  type SuspendResult,
  type WakeFilter,
  type WorkerHeartbeat,
  type WorkerRecord,
  type ScheduleLog,
} from '@ergon/core';
import { flowControlArgs, leaseContext } from './internal/args.js';
import {
  decodeOperation,
  decodeSignal,
  decodeWorker,
  encodeSignalOperation,
  flowOf,
  optArg,
  recordResult,
  toFlowRecord,
} from './internal/codec.js';
import { closeClient, type RedisClient } from './internal/connection.js';
import { type ErrorContext, toStoreError } from './internal/errors.js';
import type { KeyLayout } from './internal/keys.js';
import { connectStore, type StoreParts } from './internal/open.js';
import { importArgs } from './internal/import.js';
import { commandName, type ScriptName } from './internal/scripts.js';
import { batchArgs, batchOutcomes, finishArgs, recordArgs, suspendArgs } from './internal/writes.js';
import type { RedisExecutionLogOptions } from './options.js';
import { RedisSchedules } from './internal/schedules.js';

/** Most created-index entries one listFlows call looks at. */
const LIST_BUDGET = 10_000;

/**
 * An {@link ExecutionLog} on Redis. Create it with {@link RedisExecutionLog.open}
 * (or {@link createRedisExecutionLog}), which connects, loads the scripts and
 * refuses an eviction policy that could delete state.
 */
export class RedisExecutionLog implements ExecutionLog {
  /** Stable store name. */
  readonly name = 'redis';
  /** Events through Redis pub/sub, best effort (workers keep a fallback poll). */
  readonly capabilities: StoreCapabilities = Object.freeze({ events: true, flowControl: true });
  /** The key prefix; every key is `{prefix}:…`. */
  readonly prefix: string;
  readonly #client: RedisClient;
  readonly #ownsClient: boolean;
  readonly #subscriber: RedisClient;
  /** Cron schedules, a hash each under the store's hash tag (`internal/schedules.ts`). */
  readonly schedules: ScheduleLog;
  readonly #keys: KeyLayout;
  readonly #listeners: Set<StoreListener>;
  readonly #timeoutMs: number;
  readonly #ridBase = randomBytes(8).toString('hex');
  #ridSeq = 0;
  #closing: Promise<void> | undefined;

  private constructor(parts: StoreParts) {
    this.prefix = parts.options.prefix;
    this.#client = parts.client;
    this.#ownsClient = parts.ownsClient;
    this.#subscriber = parts.subscriber;
    this.#keys = parts.keys;
    this.schedules = new RedisSchedules(parts.client, parts.keys);
    this.#listeners = parts.listeners;
    this.#timeoutMs = parts.options.commandTimeoutMs;
  }

  /**
   * Connects, defines the scripts, checks `maxmemory-policy` and subscribes to
   * store events. On failure every connection it opened is closed again.
   *
   * @throws InvalidArgumentError (`INVALID_ARGUMENT`) for bad options;
   *   ErgonError `STORE_UNSAFE_CONFIG` for an eviction policy that may delete state;
   *   StoreUnavailableError when Redis cannot be reached.
   */
  static async open(options: RedisExecutionLogOptions = {}): Promise<RedisExecutionLog> {
    return new RedisExecutionLog(await connectStore(options));
  }

  async createFlow(input: NewFlow): Promise<CreateFlowResult> {
    return this.#call({ action: 'create flow', flowId: input.id }, async () => {
      const id = input.id;
      const reply = (await this.#script(
        'create-flow',
        [this.#keys.flow(id)],
        [
          this.#rid(),
          id,
          input.type,
          input.queue,
          input.input,
          String(input.priority),
          String(input.runAt),
          optArg(input.parentId),
          optArg(input.traceContext),
          String(input.now),
          ...flowControlArgs(input),
        ],
      )) as [number, unknown];
      return { flow: flowOf(reply[1]), created: reply[0] === 1 };
    });
  }

  /** Implements {@link @ergon/core!ExecutionLog.importFlow}. One script (import-flow): first write wins by id. */
  async importFlow(request: ImportFlowRequest): Promise<ImportFlowResult> {
    const id = request.flow.id;
    return this.#call({ action: 'import flow', flowId: id }, async () => {
      const k = this.#keys;
      const reply = (await this.#script(
        'import-flow',
        [k.flow(id), k.history(id), k.signals(id), k.signalIndex(id)],
        [this.#rid(), id, ...importArgs(request)],
      )) as [number, unknown];
      return { flow: flowOf(reply[1]), created: reply[0] === 1 };
    });
  }

  async getFlow(flowId: string): Promise<FlowRecord | undefined> {
    return this.#call({ action: 'get flow', flowId }, async () =>
      toFlowRecord(await this.#client.hgetall(this.#keys.flow(flowId))),
    );
  }

  async listFlows(query: NormalizedFlowQuery): Promise<FlowPage> {
    return this.#call({ action: 'list flows' }, async () => {
      const { limit, after, statuses } = query;
      const reply = (await this.#script(
        'list-flows',
        [this.#keys.created],
        [
          optArg(after === undefined ? undefined : String(after.createdAt)),
          after?.id ?? '',
          optArg(query.since === undefined ? undefined : String(query.since)),
          String(limit),
          String(LIST_BUDGET),
          optArg(statuses?.join(',')),
          optArg(query.type),
          optArg(query.queue),
          optArg(query.parentId),
        ],
      )) as [string, ...unknown[]];
      const [next, ...flows] = reply;
      return {
        flows: flows.map(flowOf),
        nextCursor: next ? encodeCursor(Number(next.slice(0, 16)), next.slice(16)) : undefined,
      };
    });
  }

  async getHistory(flowId: string): Promise<OperationRecord[]> {
    return this.#call({ action: 'get history', flowId }, async () => {
      const hash = await this.#client.hgetall(this.#keys.history(flowId));
      return Object.values(hash)
        .map((json) => decodeOperation(json, flowId))
        .sort((a, b) => a.position - b.position);
    });
  }

  async getSignals(flowId: string): Promise<SignalRecord[]> {
    return this.#call({ action: 'get signals', flowId }, async () => {
      const hash = await this.#client.hgetall(this.#keys.signals(flowId));
      return Object.values(hash)
        .map((json) => decodeSignal(flowId, json))
        .sort((a, b) => a.seq - b.seq);
    });
  }

  async claim(request: ClaimRequest): Promise<ClaimedFlow[]> {
    return this.#call({ action: 'claim' }, async () => {
      const { types, queues } = request;
      const worker = request.workerId;
      const leaseUntil = String(request.now + request.leaseMs);
      const now = String(request.now);
      const filter = [String(queues.length), ...queues, ...types];
      const reply = (
        request.flowId === undefined
          ? await this.#script(
              'claim',
              [this.#keys.created],
              [worker, String(request.limit), leaseUntil, now, ...filter],
            )
          : await this.#script(
              'claim-flow',
              [this.#keys.flow(request.flowId)],
              [request.flowId, worker, leaseUntil, now, ...filter],
            )
      ) as unknown[];
      return reply.map((flat) => {
        const flow = flowOf(flat);
        return { flow, token: flow.fencingToken };
      });
    });
  }

  /** Implements {@link @ergon/core!ExecutionLog.configureQueue}: one script (configure-queue). */
  async configureQueue(request: ConfigureQueueRequest): Promise<void> {
    await this.#call({ action: 'configure queue' }, () =>
      this.#script(
        'configure-queue',
        [this.#keys.created],
        [request.queue, optArg(hasLimits(request.limits) ? JSON.stringify(request.limits) : undefined)],
      ),
    );
  }

  /** Implements {@link @ergon/core!ExecutionLog.getQueueState}: one script (queue-state). */
  async getQueueState(request: QueueStateRequest): Promise<QueueState> {
    return this.#call({ action: 'read queue state' }, async () => {
      const [limits, running, keyRunning, recentStarts] = (await this.#script(
        'queue-state',
        [this.#keys.created],
        [request.queue, String(request.now), optArg(request.key)],
      )) as [string | null, number, number, number];
      return {
        limits: typeof limits === 'string' ? (JSON.parse(limits) as QueueLimits) : undefined,
        running,
        keyRunning,
        recentStarts,
      };
    });
  }

  async renewLease(lease: RenewRequest): Promise<RenewResult> {
    return this.#call(leaseContext('renew lease', lease), async () => {
      const reply = await this.#script(
        'renew-lease',
        [this.#keys.flow(lease.flowId)],
        [lease.flowId, String(lease.token), String(lease.now + lease.leaseMs)],
      );
      return { cancelRequested: reply === 1 };
    });
  }

  async releaseLease(lease: ReleaseRequest): Promise<void> {
    await this.#call(leaseContext('release lease', lease), () =>
      this.#script(
        'release-lease',
        [this.#keys.flow(lease.flowId)],
        [
          lease.flowId,
          String(lease.token),
          String(lease.now),
          optArg(lease.error),
          optArg(lease.retryAt === undefined ? undefined : String(lease.retryAt)),
        ],
      ),
    );
  }

  async recordOperation(request: RecordRequest): Promise<RecordResult> {
    const lease = request;
    return this.#call(leaseContext('record operation', lease), async () => {
      const reply = (await this.#script(
        'record-operation',
        [this.#keys.flow(lease.flowId), this.#keys.history(lease.flowId)],
        recordArgs(request),
      )) as [number, string, number];
      return recordResult(reply);
    });
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.setProgress}. One script: fence, write, publish.
   */
  async setProgress(request: ProgressRequest): Promise<ProgressResult> {
    return this.#call(leaseContext('set progress', request), async () => {
      const reply = await this.#script(
        'set-progress',
        [this.#keys.flow(request.flowId)],
        [request.flowId, String(request.token), request.progress, String(request.now)],
      );
      return { cancelRequested: reply === 1 };
    });
  }

  async consumeSignal(request: ConsumeSignalRequest): Promise<RecordResult | undefined> {
    const lease = request;
    return this.#call(leaseContext(`consume signal '${request.name}'`, lease), async () => {
      const id = lease.flowId;
      const reply = (await this.#script(
        'consume-signal',
        [this.#keys.flow(id), this.#keys.history(id), this.#keys.signals(id), this.#keys.signalIndex(id)],
        [
          id,
          String(lease.token),
          String(request.record.position),
          request.name,
          encodeSignalOperation(request.record),
        ],
      )) as [number, string, number];
      return reply[0] === 2 ? undefined : recordResult(reply);
    });
  }

  async suspend(lease: SuspendRequest): Promise<SuspendResult> {
    return this.#call(leaseContext('suspend', lease), async () => {
      const outcome = await this.#script(
        'suspend',
        [this.#keys.flow(lease.flowId), this.#keys.signalIndex(lease.flowId)],
        suspendArgs(this.#rid(), lease),
      );
      return { outcome: outcome as SuspendResult['outcome'] } as SuspendResult;
    });
  }

  async finishFlow(request: FinishRequest): Promise<void> {
    await this.#call(leaseContext(`finish flow as ${request.status}`, request), () =>
      this.#script('finish-flow', [this.#keys.flow(request.flowId)], finishArgs(this.#rid(), request)),
    );
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.applyWrites}. One script for the batch (apply-writes), each
   * write as its own script would run it.
   */
  async applyWrites(writes: readonly BatchWrite[]): Promise<BatchOutcome[]> {
    const [first] = writes;
    if (!first) return [];
    const reply = await this.#call({ action: `apply ${writes.length} writes` }, () =>
      this.#script(
        'apply-writes',
        [this.#keys.flow(first.request.flowId)],
        batchArgs(writes, () => this.#rid()),
      ),
    );
    return batchOutcomes(writes, reply);
  }

  async sendSignal(signal: SendSignalRequest): Promise<void> {
    const id = signal.flowId;
    await this.#call({ action: `signal '${signal.name}'`, flowId: id }, () =>
      this.#script(
        'send-signal',
        [this.#keys.flow(id), this.#keys.signals(id), this.#keys.signalIndex(id)],
        [this.#rid(), id, signal.name, signal.payload, String(signal.now)],
      ),
    );
  }

  async requestCancel(request: CancelRequest): Promise<FlowRecord> {
    return this.#call({ action: 'cancel', flowId: request.flowId }, async () =>
      flowOf(
        await this.#script(
          'request-cancel',
          [this.#keys.flow(request.flowId)],
          [request.flowId, request.error, String(request.now)],
        ),
      ),
    );
  }

  async nextWakeAt(filter: WakeFilter): Promise<number | undefined> {
    return this.#call({ action: 'read next wake-up' }, async () => {
      const { types, queues } = filter;
      const reply = await this.#script(
        'next-wake-at',
        [this.#keys.created],
        [String(queues.length), ...queues, ...types],
      );
      return reply === null || reply === undefined ? undefined : Number(reply);
    });
  }

  async purge(request: PurgeRequest): Promise<number> {
    return this.#call({ action: 'purge' }, async () => {
      const reply = await this.#script(
        'purge',
        [this.#keys.finished, this.#keys.created],
        [String(request.finishedBefore), String(request.limit)],
      );
      return Number(reply);
    });
  }

  /**
   * Implements {@link @ergon/core!ExecutionLog.heartbeatWorker}. One script: register, then reap.
   */
  async heartbeatWorker(request: WorkerHeartbeat): Promise<HeartbeatResult> {
    const { worker, now } = request;
    return this.#call({ action: 'worker heartbeat' }, async () => {
      const record: WorkerRecord = { ...worker, lastSeenAt: now };
      const reaped = (await this.#script(
        'heartbeat-worker',
        [this.#keys.workers, this.#keys.workersSeen],
        [worker.id, JSON.stringify(record), String(now), String(now - request.lapseMs)],
      )) as string[];
      return { reaped };
    });
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.listWorkers} */
  async listWorkers(): Promise<WorkerRecord[]> {
    return this.#call({ action: 'list workers' }, async () => {
      const hash = await this.#client.hgetall(this.#keys.workers);
      return Object.keys(hash)
        .sort()
        .map((id) => decodeWorker(id, hash[id] as string));
    });
  }

  /** {@inheritDoc @ergon/core!ExecutionLog.removeWorker} */
  async removeWorker(request: RemoveWorkerRequest): Promise<number> {
    return this.#call({ action: 'remove worker' }, async () =>
      Number(
        await this.#script(
          'remove-worker',
          [this.#keys.workers, this.#keys.workersSeen],
          [request.workerId, String(request.now), request.expireLeases ? '1' : '0'],
        ),
      ),
    );
  }

  /**
   * Store events from every process using this prefix, through Redis pub/sub.
   * Delivery is best effort: events published while the subscriber is
   * reconnecting are lost, so a worker keeps a fallback poll (`nextWakeAt`).
   */
  subscribe(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Closes the subscriber, and the command connection when the store created it. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listeners.clear();
      this.#subscriber.disconnect();
      if (this.#ownsClient) await closeClient(this.#client, Math.min(this.#timeoutMs, 2000));
    })();
    return this.#closing;
  }

  async #call<T>(context: ErrorContext, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toStoreError(error, context);
    }
  }

  #script(name: ScriptName, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const command = (this.#client as unknown as Record<string, (...parts: string[]) => Promise<unknown>>)[
      commandName(name)
    ];
    if (!command) throw new Error(`script ${name} is not defined on the client`);
    return command.call(this.#client, ...keys, this.#keys.base, ...args);
  }

  /** A request id: unique per call, so a resent copy of a state change is recognised. */
  #rid(): string {
    this.#ridSeq += 1;
    return `${this.#ridBase}:${this.#ridSeq}`;
  }
}

/** Opens a {@link RedisExecutionLog}; see {@link RedisExecutionLog.open}. */
export function createRedisExecutionLog(options: RedisExecutionLogOptions = {}): Promise<RedisExecutionLog> {
  return RedisExecutionLog.open(options);
}
