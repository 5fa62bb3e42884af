/**
 * The runtime wrapper's write path: creates, records, suspensions and
 * finishes, checked, then coalesced into batches when the store takes them
 * (`coalescer.ts`), and a create's claim done here for a store that cannot
 * claim on create itself. A run's other writes under its lease (a consumed
 * signal, progress) are checked here too and go to the store on their own.
 *
 * @module
 */
import { InvalidArgumentError } from '../../errors.js';
import type { BatchValue } from '../batch.js';
import { applyEach, applyWrite } from '../batch.js';
import { claimOfNew } from '../create-claim.js';
import type {
  BatchOutcome,
  BatchWrite,
  ConsumeSignalRequest,
  CreateFlowResult,
  ExecutionLog,
  FinishRequest,
  FinishResult,
  NewFlow,
  ProgressRequest,
  ProgressResult,
  RecordRequest,
  RecordResult,
  StoreCapabilities,
  SuspendRequest,
  SuspendResult,
} from '../execution-log.js';
import { MAX_BATCH_WRITES } from '../execution-log.js';
import { type Coalescer, createCoalescer, writeCoalescer } from './coalescer.js';
import { checkFlowOptions, requireFlowControl, usesFlowControl } from './flow-control.js';
import {
  checkConsume,
  checkFinish,
  checkName,
  checkNewFlow,
  checkProgress,
  checkRecordRequest,
  checkSuspend,
  checkTime,
} from './validate.js';

/** Checked writes of one store, coalesced when it takes batches. */
export class RuntimeWrites {
  readonly #inner: ExecutionLog;
  readonly #capabilities: StoreCapabilities;
  readonly #writes: Coalescer<BatchWrite, BatchValue> | undefined;
  readonly #creates: Coalescer<NewFlow, CreateFlowResult> | undefined;

  constructor(inner: ExecutionLog, capabilities: StoreCapabilities, coalesce: boolean) {
    this.#inner = inner;
    this.#capabilities = capabilities;
    this.#writes =
      coalesce && typeof inner.applyWrites === 'function'
        ? writeCoalescer(inner as ExecutionLog & Required<Pick<ExecutionLog, 'applyWrites'>>)
        : undefined;
    this.#creates =
      coalesce && typeof inner.createFlows === 'function'
        ? createCoalescer(inner as ExecutionLog & Required<Pick<ExecutionLog, 'createFlows'>>)
        : undefined;
  }

  /** True when records, suspensions and finishes made while others are in flight go as one batch. */
  get coalescing(): boolean {
    return this.#writes !== undefined;
  }

  /** Checks and creates `flow`, claiming it when asked (by the store, or here right after). */
  async create(flow: NewFlow): Promise<CreateFlowResult> {
    checkNewFlow(flow);
    if (usesFlowControl(flow)) {
      requireFlowControl(this.#inner.name, this.#capabilities.flowControl === true, 'a flow-control option');
      checkFlowOptions(flow);
    }
    const { claim } = flow;
    if (claim !== undefined) {
      if (typeof claim !== 'object' || claim === null)
        throw new InvalidArgumentError('createFlow: claim must be { workerId, leaseMs } or left out');
      checkName(claim.workerId, 'worker id');
      checkTime(claim.leaseMs, 'leaseMs');
      if (claim.leaseMs <= 0) throw new InvalidArgumentError(`leaseMs must be > 0 (got ${claim.leaseMs})`);
    }
    if (claim === undefined || this.#capabilities.claimOnCreate === true) return this.#create(flow);
    const { claim: _, ...unclaimed } = flow;
    const result = await this.#create(unclaimed);
    if (!result.created || result.flow.runAt === undefined || result.flow.runAt > flow.now) return result;
    const asked = claimOfNew(flow);
    const [claimed] = asked ? await this.#inner.claim(asked) : [];
    return claimed ? { flow: claimed.flow, created: true, claimed } : result;
  }

  /** Checks and writes a history record. */
  record(request: RecordRequest): Promise<RecordResult> {
    checkRecordRequest(request);
    if (this.#writes) return this.#writes.submit({ op: 'record', request }) as Promise<RecordResult>;
    return this.#inner.recordOperation(request);
  }

  /** Checks and suspends. */
  suspend(request: SuspendRequest): Promise<SuspendResult> {
    checkSuspend(request);
    if (this.#writes) return this.#writes.submit({ op: 'suspend', request }) as Promise<SuspendResult>;
    return this.#inner.suspend(request);
  }

  /** Checks and finishes. */
  finish(request: FinishRequest): Promise<FinishResult | undefined> {
    checkFinish(request);
    if (this.#writes)
      return this.#writes.submit({ op: 'finish', request }) as Promise<FinishResult | undefined>;
    return this.#inner.finishFlow(request);
  }

  /** Checks and consumes a signal (never batched). */
  consume(request: ConsumeSignalRequest): Promise<RecordResult | undefined> {
    checkConsume(request);
    return this.#inner.consumeSignal(request);
  }

  /** Checks and sets progress (never batched). @throws ProgressTooLargeError before the store sees it. */
  progress(request: ProgressRequest): Promise<ProgressResult> {
    checkProgress(request);
    return this.#inner.setProgress(request);
  }

  /** See {@link RuntimeExecutionLog.writeInOrder}. */
  inOrder(writes: readonly BatchWrite[]): Promise<BatchOutcome[]> {
    if (!Array.isArray(writes) || writes.length > MAX_BATCH_WRITES)
      throw new InvalidArgumentError(`writeInOrder takes a list of at most ${MAX_BATCH_WRITES} writes`);
    for (const write of writes) {
      if (write.op === 'record') checkRecordRequest(write.request);
      else if (write.op === 'suspend') checkSuspend(write.request);
      else if (write.op === 'finish') checkFinish(write.request);
      else throw new InvalidArgumentError(`unknown write op '${String((write as BatchWrite).op)}'`);
    }
    if (this.#writes) return this.#writes.submitInOrder(writes);
    let failed: BatchOutcome | undefined;
    return applyEach(writes, async (write) => {
      if (failed && !failed.ok) throw failed.error;
      try {
        return await applyWrite(this.#inner, write);
      } catch (error) {
        failed = { ok: false, error };
        throw error;
      }
    });
  }

  #create(flow: NewFlow): Promise<CreateFlowResult> {
    return this.#creates ? this.#creates.submit(flow) : this.#inner.createFlow(flow);
  }
}
