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
import { MemoryHistory } from './in-memory-history.js';
import { importedState } from './in-memory-import.js';
import { MemorySchedules } from './in-memory-schedules.js';
import {
  anyResolved,
  claimableAt,
  listFlowsOf,
  type Mutable,
  newFlowRecord,
  nextWakeOf,
  setClaimed,
  setFinished,
  setReleased,
  setSuspended,
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
  readonly #history = new MemoryHistory();
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  readonly #registry = new MemoryWorkerRegistry((owner, now) => this.#expireLeases(owner, now));
  readonly #control = new MemoryFlowControl();

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
    const { flow, history, signals } = importedState(request, () => this.#history.nextSeq());
    this.#flows.set(flow.id, flow);
    this.#history.restore(flow.id, history, signals);
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
    return this.#history.records(flowId);
  }

  async getSignals(flowId: string): Promise<SignalRecord[]> {
    return [...this.#history.pending(flowId)];
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
      setClaimed(flow, request.workerId, now, request.leaseMs);
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
    // Never shortened: a renewal that arrives after a later one leaves the later expiry.
    flow.leaseExpiresAt = Math.max(flow.leaseExpiresAt ?? 0, lease.now + lease.leaseMs);
    return { cancelRequested: flow.cancelRequested };
  }

  async releaseLease(lease: ReleaseRequest): Promise<void> {
    const flow = this.#flows.get(lease.flowId);
    if (!flow || flow.fencingToken !== lease.token || flow.status !== 'running') return;
    const runAt = setReleased(flow, lease);
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
    return { ...this.#history.write(request.record), cancelRequested: flow.cancelRequested };
  }

  async consumeSignal(request: ConsumeSignalRequest): Promise<RecordResult | undefined> {
    const lease = request;
    const flow = this.#owned(lease);
    const existing = this.#history.at(lease.flowId, request.record.position);
    if (existing && existing.status !== 'waiting') {
      return { record: existing, existed: true, cancelRequested: flow.cancelRequested };
    }
    const signal = this.#history.take(lease.flowId, request.name);
    if (!signal) return undefined;
    const record: OperationRecord = { ...request.record, status: 'completed', result: signal.payload };
    return { ...this.#history.write(record), cancelRequested: flow.cancelRequested };
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
    setSuspended(flow, lease);
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
    this.#history.send(flow.id, signal.name, signal.payload, signal.now);
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

  #anyResolved(flowId: string, waits: readonly Wait[], now: number): boolean {
    return anyResolved(waits, now, this.#history.pending(flowId), this.#flows);
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
