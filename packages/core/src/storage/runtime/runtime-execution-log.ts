/**
 * The runtime wrapper around a store (Kysely's `RuntimeDriver` is the model).
 * Every engine entry point (worker, client, executor, CLI, dashboard) talks to
 * a store through it, so the contract's invariants live here once:
 * - every argument is validated and normalised (ids, times, limits, statuses,
 *   filters, a record on its own lease) before a store sees it;
 * - calls after `close()` are refused with `STORE_UNAVAILABLE`; `close()` runs once;
 * - event listeners are isolated: one that throws is logged and never reaches
 *   the store, the other listeners or the process;
 * - a request's `signal` aborts the wait for the store (`ABORTED`);
 * - records, suspensions and finishes made while others are in flight go to
 *   the store as one batch, when it takes batches (`writes.ts`, `coalescer.ts`).
 * Stores keep only what must be atomic with their writes. The checks live by
 * area beside this class: `writes.ts`, `leases.ts`, `flows.ts`, `workers.ts`,
 * `flow-control.ts`, `import-flow.ts`, `schedules.ts` (`validate.ts` has the
 * field checks they share).
 *
 * @module
 */

import { noopLogger } from '../../logger.js';
import { StoreUnavailableError } from '../errors.js';
import type {
  BatchOutcome,
  BatchWrite,
  CancelRequest,
  ClaimedFlow,
  ClaimRequest,
  ConsumeSignalRequest,
  CreateFlowResult,
  ExecutionLog,
  FinishRequest,
  FinishResult,
  FlowPage,
  FlowQuery,
  MAX_BATCH_WRITES,
  NewFlow,
  ProgressRequest,
  ProgressResult,
  PurgeRequest,
  ReadOptions,
  RecordRequest,
  RecordResult,
  ReleaseRequest,
  RenewRequest,
  RenewResult,
  SendSignalRequest,
  StoreCapabilities,
  StoreListener,
  SuspendRequest,
  SuspendResult,
  WakeFilter,
} from '../execution-log.js';
import type { ImportFlowRequest, ImportFlowResult } from '../import-flow.js';
import { normalizeQuery } from '../query.js';
import type { ConfigureQueueRequest, QueueState, QueueStateRequest } from '../queues.js';
import type { FlowRecord, OperationRecord, SignalRecord } from '../records.js';
import type { HeartbeatResult, RemoveWorkerRequest, WorkerHeartbeat, WorkerRecord } from '../workers.js';
import { abortError, raceAbort } from './abort.js';
import { configureQueueChecked, queueStateChecked } from './flow-control.js';
import { cancelChecked, purgeChecked, signalChecked } from './flows.js';
import { importChecked } from './import-flow.js';
import { claimChecked, nextWakeChecked, releaseChecked, renewChecked } from './leases.js';
import { Listeners } from './listeners.js';
import { capabilitiesOf, RUNTIME_MARK, type RuntimeOptions } from './runtime-store.js';
import { RuntimeSchedules } from './schedules.js';
import { checkId } from './validate.js';
import { heartbeatChecked, removeWorkerChecked } from './workers.js';
import { RuntimeWrites } from './writes.js';

/**
 * The checked face of a store. Same primitives as {@link ExecutionLog}, except
 * that `listFlows` takes the public {@link FlowQuery} (normalised here).
 * Create it with {@link runtimeStore}.
 */
export class RuntimeExecutionLog {
  /** The wrapped store. Call it directly only in tests of the store itself. */
  readonly inner: ExecutionLog;
  /** The store's name. */
  readonly name: string;
  /** The store's capabilities. */
  readonly capabilities: StoreCapabilities;
  /** Store events, when the store has them (`capabilities.events`); listeners are isolated. */
  readonly subscribe: ((listener: StoreListener) => () => void) | undefined;
  /** The store's schedules, checked (`schedules.ts`); refused with a clear error by a store without them. */
  readonly schedules: RuntimeSchedules;
  readonly #listeners: Listeners;
  /** A run's writes and creates: checked; records, suspensions, finishes and creates coalesced when the store takes batches. */
  readonly #writes: RuntimeWrites;
  #closing: Promise<void> | undefined;

  constructor(inner: ExecutionLog, options: RuntimeOptions = {}) {
    Object.defineProperty(this, RUNTIME_MARK, { value: true });
    this.inner = inner;
    this.name = inner.name;
    this.capabilities = capabilitiesOf(inner);
    this.#listeners = new Listeners(inner, options.logger ?? noopLogger);
    this.subscribe = this.capabilities.events ? (listener) => this.#listeners.subscribe(listener) : undefined;
    this.schedules = new RuntimeSchedules(inner.name, inner.schedules, (action, opts, run) =>
      this.#call(action, opts, run),
    );
    this.#writes = new RuntimeWrites(inner, this.capabilities, options.coalesce !== false);
  }

  /** True when writes made while others are in flight go to the store as one batch. */
  get coalescing(): boolean {
    return this.#writes.coalescing;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** {@inheritDoc ExecutionLog.createFlow} */
  createFlow(flow: NewFlow): Promise<CreateFlowResult> {
    return this.#call('create flow', flow, () => this.#writes.create(flow));
  }

  /**
   * Sets or removes a queue's limits (`queues.ts`); every worker's next claim keeps them.
   * @throws ErgonError `INVALID_FLOW_CONTROL` for a bad limit, `INVALID_ARGUMENT` on a store without flow control.
   */
  configureQueue(request: ConfigureQueueRequest): Promise<void> {
    return this.#call('configure queue', request, () => configureQueueChecked(this, request));
  }

  /** A queue's limits and what counts against them now; no limits and zeros on a store without flow control. */
  getQueueState(request: QueueStateRequest): Promise<QueueState> {
    return this.#call('read queue state', request, () => queueStateChecked(this, request));
  }

  /**
   * {@inheritDoc ExecutionLog.importFlow}
   * @throws InvalidArgumentError for a malformed request, or on a store without `importFlow`.
   */
  importFlow(request: ImportFlowRequest): Promise<ImportFlowResult> {
    return this.#call('import flow', request, () => importChecked(this.inner, request));
  }

  /** {@inheritDoc ExecutionLog.getFlow} */
  getFlow(flowId: string, options?: ReadOptions): Promise<FlowRecord | undefined> {
    return this.#call('get flow', options, () => {
      checkId(flowId, 'flow id');
      return this.inner.getFlow(flowId, options);
    });
  }

  /** Flows matching the query, newest first, paged by cursor. Validates every filter. */
  listFlows(query: FlowQuery = {}): Promise<FlowPage> {
    return this.#call('list flows', query, () => this.inner.listFlows(normalizeQuery(query)));
  }

  /** {@inheritDoc ExecutionLog.getHistory} */
  getHistory(flowId: string, options?: ReadOptions): Promise<OperationRecord[]> {
    return this.#call('get history', options, () => {
      checkId(flowId, 'flow id');
      return this.inner.getHistory(flowId, options);
    });
  }

  /** {@inheritDoc ExecutionLog.getSignals} */
  getSignals(flowId: string, options?: ReadOptions): Promise<SignalRecord[]> {
    return this.#call('get signals', options, () => {
      checkId(flowId, 'flow id');
      return this.inner.getSignals(flowId, options);
    });
  }

  /**
   * As {@link ExecutionLog.claim}. A limit of 0, or no types or queues, claims nothing.
   */
  claim(request: ClaimRequest): Promise<ClaimedFlow[]> {
    return this.#call('claim', request, () => claimChecked(this.inner, request));
  }

  /** {@inheritDoc ExecutionLog.renewLease} */
  renewLease(request: RenewRequest): Promise<RenewResult> {
    return this.#call('renew lease', request, () => renewChecked(this.inner, request));
  }

  /** {@inheritDoc ExecutionLog.releaseLease} */
  releaseLease(request: ReleaseRequest): Promise<void> {
    return this.#call('release lease', request, () => releaseChecked(this.inner, request));
  }

  /** {@inheritDoc ExecutionLog.recordOperation} */
  recordOperation(request: RecordRequest): Promise<RecordResult> {
    // The path of every step: what #call does for a call with no signal, without a closure made.
    if (this.#closing === undefined && request?.signal === undefined) {
      try {
        return this.#writes.record(request);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#call('record operation', request, () => this.#writes.record(request));
  }

  /** {@inheritDoc ExecutionLog.consumeSignal} */
  consumeSignal(request: ConsumeSignalRequest): Promise<RecordResult | undefined> {
    return this.#call('consume signal', request, () => this.#writes.consume(request));
  }

  /**
   * {@inheritDoc ExecutionLog.setProgress}
   *
   * @throws ProgressTooLargeError before any store sees the value.
   */
  setProgress(request: ProgressRequest): Promise<ProgressResult> {
    return this.#call('set progress', request, () => this.#writes.progress(request));
  }

  /** {@inheritDoc ExecutionLog.suspend} */
  suspend(request: SuspendRequest): Promise<SuspendResult> {
    return this.#call('suspend', request, () => this.#writes.suspend(request));
  }

  /** {@inheritDoc ExecutionLog.finishFlow} */
  finishFlow(request: FinishRequest): Promise<FinishResult | undefined> {
    return this.#call('finish flow', request, () => this.#writes.finish(request));
  }

  /**
   * Writes of one flow that must apply in this order (a run's last records, then its finish or
   * suspension): one batch when the store takes batches, never split or passed by another batch
   * in flight; one call after the other otherwise, stopping at the first that fails (the rest
   * fail with its error, unsent). Each write settles with its own outcome, as in
   * {@link ExecutionLog.applyWrites}; in a batch, writes of one lease stand or fall together when
   * the lease is lost, and a write refused for another cause (damaged data) fails alone.
   * At most {@link MAX_BATCH_WRITES} writes.
   */
  writeInOrder(writes: readonly BatchWrite[]): Promise<BatchOutcome[]> {
    return this.#call('write in order', undefined, () => this.#writes.inOrder(writes));
  }

  /** {@inheritDoc ExecutionLog.sendSignal} */
  sendSignal(request: SendSignalRequest): Promise<void> {
    return this.#call('send signal', request, () => signalChecked(this.inner, request));
  }

  /** {@inheritDoc ExecutionLog.requestCancel} */
  requestCancel(request: CancelRequest): Promise<FlowRecord> {
    return this.#call('cancel', request, () => cancelChecked(this.inner, request));
  }

  /**
   * As {@link ExecutionLog.nextWakeAt}. No types or queues: undefined.
   */
  nextWakeAt(filter: WakeFilter): Promise<number | undefined> {
    return this.#call('read next wake-up', filter, () => nextWakeChecked(this.inner, filter));
  }

  /**
   * As {@link ExecutionLog.purge}. A limit of 0 purges nothing.
   */
  purge(request: PurgeRequest): Promise<number> {
    return this.#call('purge', request, () => purgeChecked(this.inner, request));
  }

  /** {@inheritDoc ExecutionLog.heartbeatWorker} */
  heartbeatWorker(request: WorkerHeartbeat): Promise<HeartbeatResult> {
    return this.#call('worker heartbeat', request, () => heartbeatChecked(this.inner, request));
  }

  /** {@inheritDoc ExecutionLog.listWorkers} */
  listWorkers(options?: ReadOptions): Promise<WorkerRecord[]> {
    return this.#call('list workers', options, () => this.inner.listWorkers(options));
  }

  /** {@inheritDoc ExecutionLog.removeWorker} */
  removeWorker(request: RemoveWorkerRequest): Promise<number> {
    return this.#call('remove worker', request, () => removeWorkerChecked(this.inner, request));
  }

  /** Ends every subscription and closes the store, once; later calls return the same promise. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listeners.close();
      await this.inner.close();
    })();
    return this.#closing;
  }

  /** Refuses calls after close, turns synchronous throws into rejections, honours the signal. */
  #call<T>(
    action: string,
    options: { readonly signal?: AbortSignal | undefined } | undefined,
    run: () => Promise<T>,
  ): Promise<T> {
    if (this.#closing) {
      return Promise.reject(new StoreUnavailableError(this.name, `${action}: the store is closed`));
    }
    const signal = options?.signal;
    let promise: Promise<T>;
    try {
      if (signal?.aborted) throw abortError(action, signal);
      promise = run();
    } catch (error) {
      return Promise.reject(error);
    }
    return signal ? raceAbort(promise, signal, action) : promise;
  }
}
