/**
 * The reference store: everything in process memory, every primitive atomic
 * because none awaits. Used by unit tests and as the model the other stores
 * are checked against by the conformance suite. The state and the steps calls
 * share are in `in-memory-core.ts`, creates and claims in `in-memory-claims.ts`.
 *
 * @module
 */
import { applyEach, applyWrite } from './batch.js';
import { FlowFinishedError, FlowNotFoundError } from './errors.js';
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
  NewFlow,
  NormalizedFlowQuery,
  ProgressRequest,
  ProgressResult,
  PurgeRequest,
  QueueState,
  QueueStateRequest,
  RecordRequest,
  RecordResult,
  ReleaseRequest,
  RenewRequest,
  RenewResult,
  SendSignalRequest,
  StoreCapabilities,
  StoreEvent,
  SuspendRequest,
  SuspendResult,
  WakeFilter,
} from './execution-log.js';
import { type ImportFlowRequest, type ImportFlowResult, importReadyEvent } from './import-flow.js';
import { claimIn, createIn } from './in-memory-claims.js';
import { MemoryCore } from './in-memory-core.js';
import { importedState } from './in-memory-import.js';
import { MemorySchedules } from './in-memory-schedules.js';
import { listFlowsOf, nextWakeOf, setReleased, setSuspended, snapshot } from './in-memory-state.js';
import { MemoryWorkerRegistry } from './in-memory-workers.js';
import { type FlowRecord, isTerminalStatus, type OperationRecord, type SignalRecord } from './records.js';
import type { HeartbeatResult, RemoveWorkerRequest, WorkerHeartbeat, WorkerRecord } from './workers.js';

/** An {@link ExecutionLog} in memory. Nothing survives the process. */
export class InMemoryExecutionLog implements ExecutionLog {
  readonly name = 'memory';
  readonly capabilities: StoreCapabilities = Object.freeze({
    events: true,
    flowControl: true,
    claimOnCreate: true,
    finishClaims: true,
  });
  /** Cron schedules (`schedules.ts`). */
  readonly schedules = new MemorySchedules();
  readonly #core = new MemoryCore();
  readonly #registry = new MemoryWorkerRegistry((owner, now) => this.#core.expireLeases(owner, now));

  async createFlow(input: NewFlow): Promise<CreateFlowResult> {
    return createIn(this.#core, input);
  }

  /** Implements {@link ExecutionLog.createFlows}: one after the other, as the single calls. */
  async createFlows(inputs: readonly NewFlow[]): Promise<CreateOutcome[]> {
    return inputs.map((input): CreateOutcome => {
      try {
        return { ok: true, value: createIn(this.#core, input) };
      } catch (error) {
        return { ok: false, error };
      }
    });
  }

  /** Implements {@link ExecutionLog.importFlow}. */
  async importFlow(request: ImportFlowRequest): Promise<ImportFlowResult> {
    const existing = this.#core.flows.get(request.flow.id);
    if (existing) return { flow: snapshot(existing), created: false };
    const { flow, history, signals } = importedState(request, () => this.#core.history.nextSeq());
    this.#core.flows.set(flow.id, flow);
    this.#core.history.restore(flow.id, history, signals);
    const ready = importReadyEvent(flow, request.now);
    if (ready) this.#core.emit(ready);
    return { flow: snapshot(flow), created: true };
  }

  async getFlow(flowId: string): Promise<FlowRecord | undefined> {
    const flow = this.#core.flows.get(flowId);
    return flow ? snapshot(flow) : undefined;
  }

  async listFlows(query: NormalizedFlowQuery): Promise<FlowPage> {
    return listFlowsOf(this.#core.flows.values(), query);
  }

  async getHistory(flowId: string): Promise<OperationRecord[]> {
    return this.#core.history.records(flowId);
  }

  async getSignals(flowId: string): Promise<SignalRecord[]> {
    return [...this.#core.history.pending(flowId)];
  }

  async claim(request: ClaimRequest): Promise<ClaimedFlow[]> {
    return claimIn(this.#core, request);
  }

  /** Implements {@link ExecutionLog.configureQueue}. */
  async configureQueue(request: ConfigureQueueRequest): Promise<void> {
    this.#core.control.configure(request.queue, request.limits);
    this.#core.emit({ type: 'ready', queue: request.queue });
  }

  /** Implements {@link ExecutionLog.getQueueState}. */
  async getQueueState(request: QueueStateRequest): Promise<QueueState> {
    return this.#core.control.state(request, this.#core.flows.values());
  }

  async renewLease(lease: RenewRequest): Promise<RenewResult> {
    const flow = this.#core.owned(lease);
    // Never shortened: a renewal that arrives after a later one leaves the later expiry.
    flow.leaseExpiresAt = Math.max(flow.leaseExpiresAt ?? 0, lease.now + lease.leaseMs);
    return { cancelRequested: flow.cancelRequested };
  }

  async releaseLease(lease: ReleaseRequest): Promise<void> {
    const flow = this.#core.flows.get(lease.flowId);
    if (!flow || flow.fencingToken !== lease.token || flow.status !== 'running') return;
    const runAt = setReleased(flow, lease);
    this.#core.emit({ type: 'ready', queue: flow.queue, at: runAt > lease.now ? runAt : undefined });
  }

  /**
   * Implements {@link ExecutionLog.applyWrites}. Write by write, as the single calls.
   */
  applyWrites(writes: readonly BatchWrite[]): Promise<BatchOutcome[]> {
    return applyEach(writes, (write) => applyWrite(this, write));
  }

  async recordOperation(request: RecordRequest): Promise<RecordResult> {
    const flow = this.#core.owned(request);
    const written = this.#core.history.write(request.record);
    return { record: written.record, existed: written.existed, cancelRequested: flow.cancelRequested };
  }

  async consumeSignal(request: ConsumeSignalRequest): Promise<RecordResult | undefined> {
    const lease = request;
    const flow = this.#core.owned(lease);
    const existing = this.#core.history.at(lease.flowId, request.record.position);
    if (existing && existing.status !== 'waiting') {
      return { record: existing, existed: true, cancelRequested: flow.cancelRequested };
    }
    const signal = this.#core.history.take(lease.flowId, request.name);
    if (!signal) return undefined;
    const record: OperationRecord = { ...request.record, status: 'completed', result: signal.payload };
    return { ...this.#core.history.write(record), cancelRequested: flow.cancelRequested };
  }

  async setProgress(request: ProgressRequest): Promise<ProgressResult> {
    const flow = this.#core.owned(request);
    flow.progress = request.progress;
    flow.progressAt = request.now;
    flow.updatedAt = request.now;
    this.#core.emit({ type: 'progress', flowId: flow.id });
    return { cancelRequested: flow.cancelRequested };
  }

  async suspend(lease: SuspendRequest): Promise<SuspendResult> {
    const flow = this.#core.owned(lease);
    if (flow.cancelRequested) {
      this.#core.finish(flow, 'cancelled', lease.now, {});
      return { outcome: 'cancelled' };
    }
    if (this.#core.anyResolved(flow.id, lease.waits, lease.now)) return { outcome: 'ready' };
    setSuspended(flow, lease);
    if (flow.runAt !== undefined) this.#core.emit({ type: 'ready', queue: flow.queue, at: flow.runAt });
    this.#core.slotFreed(flow.queue);
    return { outcome: 'suspended' };
  }

  async finishFlow(request: FinishRequest): Promise<FinishResult | undefined> {
    const flow = this.#core.owned(request);
    this.#core.finish(flow, request.status, request.now, request);
    const { next } = request;
    return next ? { claimed: claimIn(this.#core, { ...next, now: request.now }) } : undefined;
  }

  async sendSignal(signal: SendSignalRequest): Promise<void> {
    const flow = this.#core.flows.get(signal.flowId);
    if (!flow) throw new FlowNotFoundError(signal.flowId);
    if (isTerminalStatus(flow.status))
      throw new FlowFinishedError(flow.id, flow.status, `signal '${signal.name}'`);
    this.#core.history.send(flow.id, signal.name, signal.payload, signal.now);
    if (
      flow.status === 'suspended' &&
      flow.waits.some((w) => w.kind === 'signal' && w.name === signal.name)
    ) {
      this.#core.wake(flow, signal.now);
    }
  }

  async requestCancel(request: CancelRequest): Promise<FlowRecord> {
    const flow = this.#core.flows.get(request.flowId);
    if (!flow) throw new FlowNotFoundError(request.flowId);
    if (flow.status === 'pending' || flow.status === 'suspended') {
      this.#core.finish(flow, 'cancelled', request.now, { error: request.error });
    } else if (flow.status === 'running') {
      flow.cancelRequested = true;
      flow.error = request.error;
      flow.updatedAt = request.now;
      this.#core.emit({ type: 'cancel-requested', flowId: flow.id });
    }
    return snapshot(flow);
  }

  async nextWakeAt(filter: WakeFilter): Promise<number | undefined> {
    return nextWakeOf(this.#core.flows.values(), filter);
  }

  async purge(request: PurgeRequest): Promise<number> {
    let purged = 0;
    for (const flow of this.#core.flows.values()) {
      if (purged >= request.limit) break;
      if (isTerminalStatus(flow.status) && (flow.finishedAt ?? 0) < request.finishedBefore) {
        this.#core.flows.delete(flow.id);
        this.#core.control.purged(flow);
        this.#core.history.delete(flow.id);
        purged++;
      }
    }
    return purged;
  }

  async heartbeatWorker(request: WorkerHeartbeat): Promise<HeartbeatResult> {
    return this.#registry.heartbeat(request);
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return this.#registry.list();
  }

  async removeWorker(request: RemoveWorkerRequest): Promise<number> {
    return this.#registry.remove(request);
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#core.listeners.add(listener);
    return () => this.#core.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#core.listeners.clear();
  }
}
