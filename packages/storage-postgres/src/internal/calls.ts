/**
 * Every call of the store in one table, each with its name (what a mapped
 * error says it was doing) and whether it may run again on a new connection
 * when its connection is lost (`db.ts`, {@link Repeat}). Most may: running
 * them twice has the effect of running them once, and those that must tell
 * their own earlier effect from someone else's learn that they are a repeat.
 * Claims, imports and signals may not: a claim's or an import's reply may be
 * lost after its commit, and a second signal would be a duplicate.
 *
 * @module
 */
import type {
  ClaimRequest,
  CreateFlowResult,
  FinishRequest,
  FinishResult,
  FlowPage,
  NewFlow,
  NormalizedFlowQuery,
  PurgeRequest,
  SignalRecord,
} from '@ergon/core';
import { FlowNotFoundError } from '@ergon/core';
import type { Kysely } from 'kysely';
import { applyBatch } from './batch.js';
import { ReadCoalescer } from './coalesce.js';
import type { Context } from './context.js';
import { createBatch } from './create-batch.js';
import { type Repeat, rows } from './db.js';
import { configureQueue, getQueueState } from './flow-control.js';
import { consumeSignal, readHistory, recordOperation } from './history.js';
import { importFlow } from './import.js';
import { claimFlows, nextWakeAt, releaseLease, renewLease } from './leases.js';
import { createFlow, finishFlow, purgeBatch, requestCancel, sendSignal, suspend } from './lifecycle.js';
import { listFlows } from './list.js';
import { setProgress } from './progress.js';
import { toFlowRecord, toSignalRecord } from './rows.js';
import type { Schema } from './schema.js';
import { heartbeatWorker, listWorkers, removeWorker } from './workers.js';

/** Flows deleted per purge statement, so a purge never holds many row locks for long. */
const PURGE_BATCH = 500;

/** The store's calls, bound to its context: each takes its request and runs under its policy. */
export type StoreCalls = ReturnType<typeof storeCalls>;

/** Binds every call of the store to `ctx` (and `kysely`, for the queries built per call). */
export function storeCalls(ctx: Context, kysely: Kysely<Schema>) {
  const { db, q } = ctx;
  /** `run` as the call `action`, repeated on a new connection when `repeat` allows. */
  const call =
    <A, R>(
      action: string,
      repeat: Repeat,
      run: (ctx: Context, request: A, repeated: boolean) => Promise<R>,
    ) =>
    (request: A): Promise<R> =>
      db.call(action, repeat, (repeated) => run(ctx, request, repeated));
  // Reads of single flows asked for while one is in flight go together in the next statement.
  const flows = new ReadCoalescer(
    (ids) => rows(db.pool, q.flows, { ids }),
    (row) => row.id,
  );
  const createOne = call('create flow', 'idempotent', createFlow);
  const finishOne = call('finish flow', 'idempotent', finishFlow);
  /** A finish with a next claim goes the batch way, whose last statement claims (`batch-next.ts`). */
  const finishNext = call('finish flow', 'idempotent', async (c, request: FinishRequest, repeated) => {
    const [outcome] = await applyBatch(c, [{ op: 'finish', request }], repeated);
    if (!outcome?.ok) throw outcome?.error ?? new FlowNotFoundError(request.flowId);
    return outcome.value as FinishResult;
  });
  const createFlows = call('create flows', 'idempotent', createBatch);
  /** A create with a claim goes the batch way, which claims in the insert. */
  const createClaimed = async (input: NewFlow): Promise<CreateFlowResult> => {
    const [outcome] = await createFlows([input]);
    if (!outcome) throw new FlowNotFoundError(input.id);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  };
  return {
    createFlow: (input: NewFlow): Promise<CreateFlowResult> =>
      input.claim === undefined ? createOne(input) : createClaimed(input),
    createFlows,
    importFlow: call('import flow', 'never', (c, request: Parameters<typeof importFlow>[2]) =>
      importFlow(c, kysely, request),
    ),
    listFlows: call(
      'list flows',
      'idempotent',
      (c, query: NormalizedFlowQuery): Promise<FlowPage> => listFlows(kysely, c.db.pool, query),
    ),
    getFlow: call('get flow', 'idempotent', async (_c, flowId: string) => {
      const row = await flows.get(flowId);
      return row ? toFlowRecord(row) : undefined;
    }),
    getHistory: call('get history', 'idempotent', readHistory),
    getSignals: call(
      'get signals',
      'idempotent',
      async (_c, flowId: string): Promise<SignalRecord[]> =>
        (await rows(db.pool, q.signals, { id: flowId })).map(toSignalRecord),
    ),
    claim: call('claim', 'never', (c, request: ClaimRequest) => claimFlows(c, request)),
    configureQueue: call('configure queue', 'idempotent', configureQueue),
    getQueueState: call('read queue state', 'idempotent', getQueueState),
    renewLease: call('renew lease', 'idempotent', renewLease),
    releaseLease: call('release lease', 'idempotent', releaseLease),
    recordOperation: call('record operation', 'idempotent', recordOperation),
    consumeSignal: call('consume signal', 'idempotent', consumeSignal),
    setProgress: call('set progress', 'idempotent', setProgress),
    suspend: call('suspend', 'idempotent', suspend),
    applyWrites: call('apply writes', 'idempotent', applyBatch),
    finishFlow: (request: FinishRequest): Promise<FinishResult | undefined> =>
      request.next === undefined ? finishOne(request).then(() => undefined) : finishNext(request),
    sendSignal: call('send signal', 'never', sendSignal),
    requestCancel: call('cancel', 'idempotent', requestCancel),
    nextWakeAt: call('read next wake-up', 'idempotent', nextWakeAt),
    purge: call('purge', 'idempotent', purge),
    heartbeatWorker: call('worker heartbeat', 'idempotent', heartbeatWorker),
    listWorkers: () => db.call('list workers', 'idempotent', () => listWorkers(ctx)),
    removeWorker: call('remove worker', 'idempotent', removeWorker),
  };
}

/** Deletes finished flows in statements of at most {@link PURGE_BATCH}, up to `request.limit`. */
async function purge(ctx: Context, request: PurgeRequest): Promise<number> {
  let purged = 0;
  while (purged < request.limit) {
    const batch = Math.min(PURGE_BATCH, request.limit - purged);
    const deleted = await purgeBatch(ctx, request.finishedBefore, batch);
    purged += deleted;
    if (deleted < batch) break;
  }
  return purged;
}
