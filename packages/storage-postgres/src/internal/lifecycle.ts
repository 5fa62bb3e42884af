/**
 * A flow's life outside its history: creation, suspension and waking, signals,
 * cancellation, the end of a run (waking a waiting parent), purge.
 *
 * Lost wake-ups are ruled out by row locks, not by luck: a signal is buffered
 * under the flow's lock, a finishing child locks its parent before reading its
 * waits, and a suspending flow holds its own lock while it checks what it
 * would wait for, so either the check sees the signal (or the child's end) or
 * the sender sees the flow suspended and wakes it.
 *
 * @module
 */
import {
  type CancelRequest,
  type CreateFlowResult,
  type FinishRequest,
  FlowFinishedError,
  FlowNotFoundError,
  type FlowRecord,
  type FlowStatus,
  isTerminalStatus,
  LeaseLostError,
  type NewFlow,
  type SendSignalRequest,
  type StoreEvent,
  type SuspendRequest,
  type SuspendResult,
  type Wait,
} from '@ergon/core';
import type { Context } from './context.js';
import { handRowOf } from './create-procedure.js';
import { rows, type Tx } from './db.js';
import { createControlled, needsControl } from './flow-control.js';
import type { HandRow } from './hand-off.js';
import { fence } from './leases.js';
import type { FenceRow } from './queries.js';
import { type FlowRow, newFlowRow, ownWaits, parseWaits, toFlowRecord } from './rows.js';

type Terminal = 'completed' | 'failed' | 'cancelled';

/** Creates the flow unless one with its id exists, in one statement; returns the stored one. */
export async function createFlow(ctx: Context, input: NewFlow): Promise<CreateFlowResult> {
  const { db, q } = ctx;
  ctx.listener.noteQueue(input.queue);
  if (needsControl(input)) return createControlled(ctx, input);
  const ready: StoreEvent = {
    type: 'ready',
    queue: input.queue,
    at: input.runAt > input.now ? input.runAt : undefined,
  };
  // An idle store notifies in the insert itself (see notifier.ts), through the procedure that
  // notifies before its flush (`create-procedure.ts`); otherwise after it. A flow handed off to a
  // parked worker is announced by the insert, `handed` (see hand-off.ts).
  const inline = ctx.notifier.takeInline(ready);
  let inserted: HandRow | undefined;
  try {
    const values = { ...input, channel: ctx.notifier.channel, readyPayload: inline?.payload };
    if (inline) inserted = handRowOf((await rows(db.pool, q.createCall, values))[0]);
    else [inserted] = await rows(db.pool, q.insertFlowHand, values);
  } finally {
    inline?.done();
  }
  if (inserted?.lease_owner) return { flow: toFlowRecord(handedRow(input, inserted)), created: true };
  if (inserted) {
    if (!inline) ctx.notifier.send([ready]);
    return { flow: toFlowRecord(newFlowRow(input)), created: true };
  }
  return { flow: await flowRecord(ctx, input.id), created: false };
}

/** The row the create statement wrote for `input` when it handed the flow off (claimed, first run). */
function handedRow(input: NewFlow, hand: HandRow): FlowRow {
  return {
    ...newFlowRow(input),
    status: 'running',
    fencing_token: 1,
    run_count: 1,
    lease_owner: hand.lease_owner,
    lease_expires_at: hand.lease_expires_at,
  };
}

/** The stored flow. @throws FlowNotFoundError. */
export async function flowRecord({ db, q }: Context, id: string): Promise<FlowRecord> {
  const [row] = await rows(db.pool, q.flow, { id });
  if (!row) throw new FlowNotFoundError(id);
  return toFlowRecord(row);
}

/**
 * Suspends a held flow on `waits`, unless one has resolved or cancellation was requested.
 * `repeated`: this call's connection was lost and it runs again; a suspension it made then is its own.
 */
export function suspend(ctx: Context, request: SuspendRequest, repeated: boolean): Promise<SuspendResult> {
  return ctx.db.transaction((tx) => suspendIn(ctx, tx, request, repeated));
}

/** {@link suspend} inside the transaction `tx`. Its errors are thrown before it writes anything. */
async function suspendIn(
  ctx: Context,
  tx: Tx,
  request: SuspendRequest,
  repeated: boolean,
): Promise<SuspendResult> {
  if (repeated) {
    const [flow] = await rows(tx, ctx.q.fence, { id: request.flowId });
    if (flow?.status === 'suspended' && flow.fencing_token === request.token) return { outcome: 'suspended' };
  }
  const flow = await fence(ctx, tx, request);
  if (flow.cancel_requested) {
    await finish(ctx, tx, flow, { status: 'cancelled', now: request.now });
    return { outcome: 'cancelled' };
  }
  const waits = ownWaits(request.waits);
  const timers = waits.flatMap((w) => (w.kind === 'timer' ? [w.at] : []));
  if (timers.some((at) => at <= request.now) || (await resolvedNow(ctx, tx, flow.id, waits))) {
    return { outcome: 'ready' };
  }
  const runAt = timers.length > 0 ? Math.min(...timers) : undefined;
  await rows(tx, ctx.q.suspend, { id: flow.id, waits: JSON.stringify(waits), runAt, now: request.now });
  if (runAt !== undefined) tx.emit({ type: 'ready', queue: flow.queue, at: runAt });
  return { outcome: 'suspended' };
}

/** True when a waited signal is buffered or a waited child has finished. */
async function resolvedNow(ctx: Context, tx: Tx, id: string, waits: readonly Wait[]): Promise<boolean> {
  const names = waits.flatMap((w) => (w.kind === 'signal' ? [w.name] : []));
  const children = waits.flatMap((w) => (w.kind === 'child' ? [w.flowId] : []));
  if (names.length === 0 && children.length === 0) return false;
  const [row] = await rows(tx, ctx.q.resolved, { id, names, children });
  return row?.resolved === true;
}

/**
 * Ends a held flow: one statement for a flow without a parent, a transaction that also wakes
 * the parent otherwise. `repeated`: a finish it made before its connection was lost is its own.
 */
export async function finishFlow(ctx: Context, request: FinishRequest, repeated: boolean): Promise<void> {
  const { db, q } = ctx;
  const values = finishValues(request);
  const [done] = await rows(db.pool, q.finishFast, { ...values, id: request.flowId, token: request.token });
  if (done) {
    ctx.notifier.send([{ type: 'finished', flowId: request.flowId, status: request.status }]);
    return;
  }
  await db.transaction((tx) => finishHeld(ctx, tx, request, repeated));
}

/**
 * The path of a batched finish the batch statement did not make (a child's, or a refused one):
 * under the flow's lock, in a transaction of its own.
 */
export function finishSlow(ctx: Context, request: FinishRequest, repeated: boolean): Promise<void> {
  return ctx.db.transaction((tx) => finishHeld(ctx, tx, request, repeated));
}

/** Finishes the flow under its lock, waking its parent. */
async function finishHeld(ctx: Context, tx: Tx, request: FinishRequest, repeated: boolean): Promise<void> {
  const [flow] = await rows(tx, ctx.q.fence, { id: request.flowId });
  if (!flow) throw new FlowNotFoundError(request.flowId);
  if (flow.fencing_token !== request.token || flow.status !== 'running') {
    if (repeated && flow.fencing_token === request.token && flow.status === request.status) return;
    throw new LeaseLostError(request.flowId, request.token);
  }
  await finish(ctx, tx, flow, finishValues(request));
}

function finishValues(request: {
  status: Terminal;
  now: number;
  result?: string | undefined;
  error?: string | undefined;
}) {
  return { status: request.status, now: request.now, result: request.result, error: request.error };
}

/** Buffers a signal and wakes the flow if it waits on that name. */
export function sendSignal(ctx: Context, signal: SendSignalRequest): Promise<void> {
  return ctx.db.transaction(async (tx) => {
    const [flow] = await rows(tx, ctx.q.fence, { id: signal.flowId });
    if (!flow) throw new FlowNotFoundError(signal.flowId);
    if (isTerminalStatus(flow.status as FlowStatus)) {
      throw new FlowFinishedError(flow.id, flow.status as FlowStatus, `signal '${signal.name}'`);
    }
    await rows(tx, ctx.q.insertSignal, {
      id: flow.id,
      name: signal.name,
      payload: signal.payload,
      now: signal.now,
    });
    if (flow.status === 'suspended' && waitsFor(flow, (w) => w.kind === 'signal' && w.name === signal.name)) {
      await wake(ctx, tx, flow, signal.now);
    }
  });
}

/** Cancels a pending or suspended flow at once; flags a running one. */
export async function requestCancel(ctx: Context, request: CancelRequest): Promise<FlowRecord> {
  await ctx.db.transaction(async (tx) => {
    const [flow] = await rows(tx, ctx.q.fence, { id: request.flowId });
    if (!flow) throw new FlowNotFoundError(request.flowId);
    if (flow.status === 'pending' || flow.status === 'suspended') {
      await finish(ctx, tx, flow, { status: 'cancelled', error: request.error, now: request.now });
    } else if (flow.status === 'running') {
      await rows(tx, ctx.q.flagCancel, { id: flow.id, error: request.error, now: request.now });
      tx.emit({ type: 'cancel-requested', flowId: flow.id });
    }
  });
  return flowRecord(ctx, request.flowId);
}

/** Deletes up to `limit` terminal flows finished before the cut-off, with history and signals. */
export async function purgeBatch({ db, q }: Context, finishedBefore: number, limit: number): Promise<number> {
  return (await rows(db.pool, q.purge, { before: finishedBefore, limit })).length;
}

/** Moves a locked flow to a terminal state and wakes its parent if the parent waits on it. */
async function finish(
  ctx: Context,
  tx: Tx,
  flow: FenceRow,
  values: { status: Terminal; now: number; result?: string | undefined; error?: string | undefined },
): Promise<void> {
  await rows(tx, ctx.q.finish, { ...finishValues(values), id: flow.id });
  tx.emit({ type: 'finished', flowId: flow.id, status: values.status });
  if (flow.parent_id === null) return;
  // Locked, then read: a parent suspending right now is waited for and then seen suspended.
  const [parent] = await rows(tx, ctx.q.fence, { id: flow.parent_id });
  if (parent?.status !== 'suspended') return;
  if (waitsFor(parent, (w) => w.kind === 'child' && w.flowId === flow.id))
    await wake(ctx, tx, parent, values.now);
}

/**
 * True when one of the flow's waits matches; also when its waits are unreadable: a spurious
 * wake costs one run, while a failure here would stop a signal or a child's end.
 */
function waitsFor(flow: FenceRow, match: (wait: Wait) => boolean): boolean {
  try {
    return parseWaits(flow.waits, flow.id).some(match);
  } catch {
    return true;
  }
}

/** Makes a suspended flow claimable now. */
async function wake(ctx: Context, tx: Tx, flow: FenceRow, now: number): Promise<void> {
  await rows(tx, ctx.q.wake, { id: flow.id, now });
  tx.emit({ type: 'ready', queue: flow.queue });
}
