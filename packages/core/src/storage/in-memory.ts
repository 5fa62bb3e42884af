/**
 * The reference store: everything in process memory, every primitive atomic
 * because none awaits. Used by unit tests and as the model the other stores
 * are checked against by the conformance suite.
 *
 * @module
 */
import { applyEach, applyWrite } from './batch.js';
import { claimOfNew } from './create-claim.js';
import { FlowFinishedError, FlowNotFoundError, LeaseLostError } from './errors.js';
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
  LeaseRef,
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
import { MemoryFlowControl } from './in-memory-flow-control.js';
import { importedState } from './in-memory-import.js';
import { MemorySchedules } from './in-memory-schedules.js';
import {
  anyResolved,
  claimableAt,
  listFlowsOf,
  type Mutable,
  newFlowRecord,
  nextWakeOf,
  setFinished,
  snapshot,
} from './in-memory-state.js';
import { MemoryWorkerRegistry } from './in-memory-workers.js';
import {
  type FlowRecord,
  isTerminalStatus,
  type OperationRecord,
  type SignalRecord,
  type Wait,
} from './records.js';
import type { HeartbeatResult, RemoveWorkerRequest, WorkerHeartbeat, WorkerRecord } from './workers.js';

/** An {@link ExecutionLog} in memory. Nothing survives the process. */
export class InMemoryExecutionLog implements ExecutionLog {
  readonly name = 'memory';
  readonly capabilities: StoreCapabilities = Object.freeze({
    events: true,
    flowControl: true,
    claimOnCreate: true,
  });
  /** Cron schedules (`schedules.ts`). */
  readonly schedules = new MemorySchedules();
  readonly #flows = new Map<string, Mutable<FlowRecord>>();
  readonly #history = new Map<string, Map<number, OperationRecord>>();
  readonly #signals = new Map<string, SignalRecord[]>();
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  readonly #registry = new MemoryWorkerRegistry((owner, now) => this.#expireLeases(owner, now));
  readonly #control = new MemoryFlowControl();
  #signalSeq = 0;

  async createFlow(input: NewFlow): Promise<CreateFlowResult> {
    return this.#create(input);
  }

  /** Implements {@link ExecutionLog.createFlows}: one after the other, as the single calls. */
  async createFlows(inputs: readonly NewFlow[]): Promise<CreateOutcome[]> {
    return inputs.map((input): CreateOutcome => {
      try {
        return { ok: true, value: this.#create(input) };
      } catch (error) {
        return { ok: false, error };
      }
    });
  }

  #create(input: NewFlow): CreateFlowResult {
    const existing = this.#flows.get(input.id);
    if (existing) return { flow: snapshot(existing), created: false };
    const folded = this.#control.fold(input, this.#flows);
    if (folded) return { flow: snapshot(folded), created: false };
    const flow = newFlowRecord(input);
    this.#control.created(flow, input);
    this.#flows.set(flow.id, flow);
    const runAt = flow.runAt ?? input.runAt;
    const asked = claimOfNew(input);
    const [claimed] = asked ? this.#claim(asked) : [];
    if (claimed) return { flow: claimed.flow, created: true, claimed };
    this.#emit({ type: 'ready', queue: flow.queue, at: runAt > input.now ? runAt : undefined });
    return { flow: snapshot(flow), created: true };
  }

  /** Implements {@link ExecutionLog.importFlow}. */
  async importFlow(request: ImportFlowRequest): Promise<ImportFlowResult> {
    const existing = this.#flows.get(request.flow.id);
    if (existing) return { flow: snapshot(existing), created: false };
    const { flow, history, signals } = importedState(request, () => ++this.#signalSeq);
    this.#flows.set(flow.id, flow);
    this.#history.set(flow.id, history);
    if (signals.length > 0) this.#signals.set(flow.id, signals);
    const ready = importReadyEvent(flow, request.now);
    if (ready) this.#emit(ready);
    return { flow: snapshot(flow), created: true };
  }

  async getFlow(flowId: string): Promise<FlowRecord | undefined> {
    const flow = this.#flows.get(flowId);
    return flow ? snapshot(flow) : undefined;
  }

  async listFlows(query: NormalizedFlowQuery): Promise<FlowPage> {
    return listFlowsOf(this.#flows.values(), query);
  }

  async getHistory(flowId: string): Promise<OperationRecord[]> {
    const history = this.#history.get(flowId);
    return history ? [...history.values()].sort((a, b) => a.position - b.position) : [];
  }

  async getSignals(flowId: string): Promise<SignalRecord[]> {
    return [...(this.#signals.get(flowId) ?? [])];
  }

  async claim(request: ClaimRequest): Promise<ClaimedFlow[]> {
    return this.#claim(request);
  }

  #claim(request: ClaimRequest): ClaimedFlow[] {
    const { now } = request;
    const only = request.flowId === undefined ? undefined : this.#flows.get(request.flowId);
    const candidates = request.flowId === undefined ? [...this.#flows.values()] : only ? [only] : [];
    const ready = candidates.filter(
      (f) => request.types.includes(f.type) && request.queues.includes(f.queue) && claimableAt(f, now),
    );
    const chosen = this.#control.choose(ready, request, this.#flows.values());
    return chosen.map((flow) => {
      if (this.#control.controls(flow.queue)) this.#control.started(flow, now);
      // Its lease expired: that run was abandoned.
      if (flow.status === 'running') flow.abandonedRuns = (flow.abandonedRuns ?? 0) + 1;
      flow.status = 'running';
      flow.fencingToken += 1;
      flow.leaseOwner = request.workerId;
      flow.leaseExpiresAt = now + request.leaseMs;
      flow.runCount += 1;
      flow.waits = [];
      flow.updatedAt = now;
      return { flow: snapshot(flow), token: flow.fencingToken };
    });
  }

  /** Implements {@link ExecutionLog.configureQueue}. */
  async configureQueue(request: ConfigureQueueRequest): Promise<void> {
    this.#control.configure(request.queue, request.limits);
    this.#emit({ type: 'ready', queue: request.queue });
  }

  /** Implements {@link ExecutionLog.getQueueState}. */
  async getQueueState(request: QueueStateRequest): Promise<QueueState> {
    return this.#control.state(request, this.#flows.values());
  }

  async renewLease(lease: RenewRequest): Promise<RenewResult> {
    const flow = this.#owned(lease);
    flow.leaseExpiresAt = lease.now + lease.leaseMs;
    return { cancelRequested: flow.cancelRequested };
  }

  async releaseLease(lease: ReleaseRequest): Promise<void> {
    const flow = this.#flows.get(lease.flowId);
    if (!flow || flow.fencingToken !== lease.token || flow.status !== 'running') return;
    const runAt = lease.retryAt ?? lease.now;
    flow.status = 'pending';
    flow.runAt = runAt;
    flow.leaseOwner = undefined;
    flow.leaseExpiresAt = undefined;
    flow.updatedAt = lease.now;
    if (lease.error !== undefined) {
      flow.lastError = lease.error;
      flow.abandonedRuns = (flow.abandonedRuns ?? 0) + 1;
    }
    this.#emit({ type: 'ready', queue: flow.queue, at: runAt > lease.now ? runAt : undefined });
  }

  /**
   * Implements {@link ExecutionLog.applyWrites}. Write by write, as the single calls.
   */
  applyWrites(writes: readonly BatchWrite[]): Promise<BatchOutcome[]> {
    return applyEach(writes, (write) => applyWrite(this, write));
  }

  async recordOperation(request: RecordRequest): Promise<RecordResult> {
    const flow = this.#owned(request);
    return { ...this.#write(request.record), cancelRequested: flow.cancelRequested };
  }

  async consumeSignal(request: ConsumeSignalRequest): Promise<RecordResult | undefined> {
    const lease = request;
    const flow = this.#owned(lease);
    const existing = this.#history.get(lease.flowId)?.get(request.record.position);
    if (existing && existing.status !== 'waiting') {
      return { record: existing, existed: true, cancelRequested: flow.cancelRequested };
    }
    const queue = this.#signals.get(lease.flowId) ?? [];
    const index = queue.findIndex((s) => s.name === request.name);
    if (index < 0) return undefined;
    const [signal] = queue.splice(index, 1);
    const record: OperationRecord = { ...request.record, status: 'completed', result: signal?.payload };
    return { ...this.#write(record), cancelRequested: flow.cancelRequested };
  }

  async setProgress(request: ProgressRequest): Promise<ProgressResult> {
    const flow = this.#owned(request);
    flow.progress = request.progress;
    flow.progressAt = request.now;
    flow.updatedAt = request.now;
    this.#emit({ type: 'progress', flowId: flow.id });
    return { cancelRequested: flow.cancelRequested };
  }

  async suspend(lease: SuspendRequest): Promise<SuspendResult> {
    const flow = this.#owned(lease);
    if (flow.cancelRequested) {
      this.#finish(flow, 'cancelled', lease.now, {});
      return { outcome: 'cancelled' };
    }
    if (this.#anyResolved(flow.id, lease.waits, lease.now)) return { outcome: 'ready' };
    const timers = lease.waits.filter((w) => w.kind === 'timer').map((w) => w.at);
    flow.status = 'suspended';
    flow.abandonedRuns = 0;
    flow.lastError = undefined;
    flow.waits = [...lease.waits];
    flow.runAt = timers.length > 0 ? Math.min(...timers) : undefined;
    flow.leaseOwner = undefined;
    flow.leaseExpiresAt = undefined;
    flow.updatedAt = lease.now;
    if (flow.runAt !== undefined) this.#emit({ type: 'ready', queue: flow.queue, at: flow.runAt });
    this.#slotFreed(flow.queue);
    return { outcome: 'suspended' };
  }

  async finishFlow(request: FinishRequest): Promise<void> {
    const flow = this.#owned(request);
    this.#finish(flow, request.status, request.now, request);
  }

  async sendSignal(signal: SendSignalRequest): Promise<void> {
    const flow = this.#flows.get(signal.flowId);
    if (!flow) throw new FlowNotFoundError(signal.flowId);
    if (isTerminalStatus(flow.status))
      throw new FlowFinishedError(flow.id, flow.status, `signal '${signal.name}'`);
    const queue = this.#signals.get(flow.id) ?? [];
    queue.push({
      flowId: flow.id,
      seq: ++this.#signalSeq,
      name: signal.name,
      payload: signal.payload,
      sentAt: signal.now,
    });
    this.#signals.set(flow.id, queue);
    if (
      flow.status === 'suspended' &&
      flow.waits.some((w) => w.kind === 'signal' && w.name === signal.name)
    ) {
      this.#wake(flow, signal.now);
    }
  }

  async requestCancel(request: CancelRequest): Promise<FlowRecord> {
    const flow = this.#flows.get(request.flowId);
    if (!flow) throw new FlowNotFoundError(request.flowId);
    if (flow.status === 'pending' || flow.status === 'suspended') {
      this.#finish(flow, 'cancelled', request.now, { error: request.error });
    } else if (flow.status === 'running') {
      flow.cancelRequested = true;
      flow.error = request.error;
      flow.updatedAt = request.now;
      this.#emit({ type: 'cancel-requested', flowId: flow.id });
    }
    return snapshot(flow);
  }

  async nextWakeAt(filter: WakeFilter): Promise<number | undefined> {
    return nextWakeOf(this.#flows.values(), filter);
  }

  async purge(request: PurgeRequest): Promise<number> {
    let purged = 0;
    for (const flow of this.#flows.values()) {
      if (purged >= request.limit) break;
      if (isTerminalStatus(flow.status) && (flow.finishedAt ?? 0) < request.finishedBefore) {
        this.#flows.delete(flow.id);
        this.#control.purged(flow);
        this.#history.delete(flow.id);
        this.#signals.delete(flow.id);
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
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }

  /** Expires the leases `owner` holds; returns how many. */
  #expireLeases(owner: string, now: number): number {
    let expired = 0;
    for (const flow of this.#flows.values()) {
      if (flow.status !== 'running' || flow.leaseOwner !== owner || (flow.leaseExpiresAt ?? 0) <= now)
        continue;
      flow.leaseExpiresAt = now;
      expired++;
      this.#emit({ type: 'ready', queue: flow.queue });
    }
    return expired;
  }

  #owned(lease: LeaseRef): Mutable<FlowRecord> {
    const flow = this.#flows.get(lease.flowId);
    if (!flow) throw new FlowNotFoundError(lease.flowId);
    if (flow.fencingToken !== lease.token || flow.status !== 'running') {
      throw new LeaseLostError(lease.flowId, lease.token);
    }
    return flow;
  }

  #write(record: OperationRecord): { record: OperationRecord; existed: boolean } {
    let history = this.#history.get(record.flowId);
    if (!history) {
      history = new Map();
      this.#history.set(record.flowId, history);
    }
    const existing = history.get(record.position);
    if (existing && existing.status !== 'waiting') return { record: existing, existed: true };
    const stored = Object.freeze({ ...record });
    history.set(record.position, stored);
    return { record: stored, existed: false };
  }

  #anyResolved(flowId: string, waits: readonly Wait[], now: number): boolean {
    return anyResolved(waits, now, this.#signals.get(flowId) ?? [], this.#flows);
  }

  #finish(
    flow: Mutable<FlowRecord>,
    status: 'completed' | 'failed' | 'cancelled',
    now: number,
    values: { result?: string | undefined; error?: string | undefined },
  ): void {
    setFinished(flow, status, now, values);
    this.#emit({ type: 'finished', flowId: flow.id, status });
    this.#slotFreed(flow.queue);
    const parent = flow.parentId ? this.#flows.get(flow.parentId) : undefined;
    if (
      parent?.status === 'suspended' &&
      parent.waits.some((w) => w.kind === 'child' && w.flowId === flow.id)
    ) {
      this.#wake(parent, now);
    }
  }

  #wake(flow: Mutable<FlowRecord>, now: number): void {
    flow.runAt = now;
    flow.updatedAt = now;
    this.#emit({ type: 'ready', queue: flow.queue });
  }

  /** A running flow of a controlled queue stopped: flows its limits held back may run now. */
  #slotFreed(queue: string): void {
    if (this.#control.controls(queue)) this.#emit({ type: 'ready', queue });
  }

  #emit(event: StoreEvent): void {
    if (this.#listeners.size === 0) return;
    queueMicrotask(() => {
      for (const listener of this.#listeners) listener(event);
    });
  }
}
