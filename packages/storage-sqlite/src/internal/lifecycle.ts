/**
 * A flow's life outside its history: creation, suspension and waking,
 * signals, cancellation, the end of a run (waking a waiting parent). Purge is
 * in `purge.ts`.
 *
 * @module
 */
import {
  type CancelRequest,
  type CreateFlowResult,
  claimOfNew,
  type FinishRequest,
  FlowFinishedError,
  FlowNotFoundError,
  type FlowRecord,
  type FlowStatus,
  isTerminalStatus,
  type NewFlow,
  type SendSignalRequest,
  type SuspendRequest,
  type SuspendResult,
  type Wait,
} from '@ergon/core';
import { afterCreate, foldCreate, isControlled } from './flow-control.js';
import { claimFlows, fence } from './leases.js';
import type { FenceRow, TxContext } from './queries.js';
import { parseWaits, toFlowRecord } from './rows.js';

type Terminal = 'completed' | 'failed' | 'cancelled';

/** Creates the flow unless one with its id exists; returns the stored one. */
export function createFlow(ctx: TxContext, input: NewFlow): CreateFlowResult {
  if (input.dedup !== undefined || input.debounce !== undefined) {
    const folded = ctx.q.flow.get({ id: input.id }) === undefined ? foldCreate(ctx, input) : undefined;
    if (folded) return { flow: folded, created: false };
  }
  const { claim } = input;
  // Read once per transaction (`queue-cache.ts`); a flow of a controlled queue joins the fair index.
  const controlled = isControlled(ctx, input.queue);
  if (claim && input.runAt <= input.now && !keyed(input) && !controlled) {
    // Nothing limits its claim: create it running.
    const row = ctx.q.insertRunning.get({
      ...input,
      workerId: claim.workerId,
      expiresAt: input.now + claim.leaseMs,
    });
    if (!row) return { flow: flowRecord(ctx, input.id), created: false };
    const { id, num, fencing_token: token, queue, parent_id } = row;
    ctx.held.claimed({ id, num, token, queue, parent_id });
    const flow = toFlowRecord(row);
    return { flow, created: true, claimed: { flow, token: row.fencing_token } };
  }
  const created = ctx.q.insertFlow.run({ ...input, controlled: controlled ? 1 : null }) === 1;
  if (created) {
    const runAt = afterCreate(ctx, input);
    const asked = runAt <= input.now ? claimOfNew(input) : undefined;
    const [claimed] = asked ? claimFlows(ctx, asked) : [];
    if (claimed) return { flow: claimed.flow, created, claimed };
    ctx.emit({ type: 'ready', queue: input.queue, at: runAt > input.now ? runAt : undefined });
  }
  return { flow: flowRecord(ctx, input.id), created };
}

/** True when a flow-control option applies to the new flow. */
function keyed(input: NewFlow): boolean {
  return input.concurrencyKey !== undefined || input.dedup !== undefined || input.debounce !== undefined;
}

/** The stored flow. @throws FlowNotFoundError. */
export function flowRecord({ q }: TxContext, id: string): FlowRecord {
  const row = q.flow.get({ id });
  if (!row) throw new FlowNotFoundError(id);
  return toFlowRecord(row);
}

/** Suspends a held flow on `waits`, unless one has resolved or cancellation was requested. */
export function suspend(ctx: TxContext, lease: SuspendRequest): SuspendResult {
  const flow = fence(ctx, lease);
  const waits = ownFields(lease.waits);
  if (flow.cancel_requested !== 0) {
    finish(ctx, flow, { status: 'cancelled', now: lease.now });
    return { outcome: 'cancelled' };
  }
  if (waits.some((wait) => resolved(ctx, flow.id, wait, lease.now))) return { outcome: 'ready' };
  const timers = waits.flatMap((wait) => (wait.kind === 'timer' ? [wait.at] : []));
  const runAt = timers.length > 0 ? Math.min(...timers) : undefined;
  ctx.q.suspend.run({ id: flow.id, waits: JSON.stringify(waits), runAt, now: lease.now });
  ctx.held.ended(flow.id);
  if (runAt !== undefined) ctx.emit({ type: 'ready', queue: flow.queue, at: runAt });
  slotFreed(ctx, flow.queue);
  return { outcome: 'suspended' };
}

/** Ends a held flow: in one statement when it is held, else through {@link fence}, which says why not. */
export function finishFlow(ctx: TxContext, request: FinishRequest): void {
  const { flowId: id, token, status, result, error, now } = request;
  const known = ctx.held.get(id, token);
  if (known !== undefined) {
    ctx.held.ended(id);
    const r = result ?? null;
    const e = error ?? null;
    // In FINISH_BY_NUM_PARAMS order.
    if (
      ctx.q.finishByNum.statement.run(status, r, status, e, e, now, now, known.num, id, token).changes === 1
    ) {
      finished(ctx, known, request);
      return;
    }
  }
  const held = ctx.q.finishHeld.get({ id, token, status, result, error, now });
  if (held === undefined) finish(ctx, fence(ctx, request), request);
  else finished(ctx, { id, queue: held[0], parent_id: held[1] }, request);
}

/** Buffers a signal and wakes the flow if it waits on that name. */
export function sendSignal(ctx: TxContext, signal: SendSignalRequest): void {
  const flow = ctx.q.fence.get({ id: signal.flowId });
  if (!flow) throw new FlowNotFoundError(signal.flowId);
  if (isTerminalStatus(flow.status as FlowStatus)) {
    throw new FlowFinishedError(flow.id, flow.status as FlowStatus, `signal '${signal.name}'`);
  }
  ctx.q.insertSignal.run(signal);
  const waits = flow.status === 'suspended' ? parseWaits(flow.waits, flow.id) : [];
  if (waits.some((w) => w.kind === 'signal' && w.name === signal.name)) wake(ctx, flow, signal.now);
}

/** Cancels a pending or suspended flow at once; flags a running one. */
export function requestCancel(ctx: TxContext, request: CancelRequest): FlowRecord {
  const flow = ctx.q.fence.get({ id: request.flowId });
  if (!flow) throw new FlowNotFoundError(request.flowId);
  if (flow.status === 'pending' || flow.status === 'suspended') {
    finish(ctx, flow, { status: 'cancelled', error: request.error, now: request.now });
  } else if (flow.status === 'running') {
    ctx.q.flagCancel.run({ id: flow.id, error: request.error, now: request.now });
    ctx.emit({ type: 'cancel-requested', flowId: flow.id });
  }
  return flowRecord(ctx, flow.id);
}

/** Moves a flow to a terminal state and wakes its parent if the parent waits on it. */
function finish(
  ctx: TxContext,
  flow: FenceRow,
  values: { status: Terminal; now: number; result?: string | undefined; error?: string | undefined },
): void {
  const { status, result, error, now } = values;
  ctx.q.finish.run({ id: flow.id, status, result, error, now });
  finished(ctx, flow, values);
}

/** What follows the end of a flow: its event, a freed slot, its waiting parent woken. */
function finished(
  ctx: TxContext,
  flow: Pick<FenceRow, 'id' | 'queue' | 'parent_id'>,
  { status, now }: { status: Terminal; now: number },
): void {
  ctx.emit({ type: 'finished', flowId: flow.id, status });
  slotFreed(ctx, flow.queue);
  if (flow.parent_id === null) return;
  const parent = ctx.q.fence.get({ id: flow.parent_id });
  if (parent?.status !== 'suspended') return;
  if (waitsOn(parent, flow.id)) wake(ctx, parent, now);
}

/**
 * True when `parent` waits on the child `childId`; also when its waits are unreadable: a
 * spurious wake costs one run, while a failure here would stop the child from finishing.
 */
function waitsOn(parent: FenceRow, childId: string): boolean {
  try {
    return parseWaits(parent.waits, parent.id).some((w) => w.kind === 'child' && w.flowId === childId);
  } catch {
    return true;
  }
}

/** A flow of a controlled queue stopped running: flows its limits held back may run now. */
function slotFreed(ctx: TxContext, queue: string): void {
  if (isControlled(ctx, queue)) ctx.emit({ type: 'ready', queue });
}

/** Makes a suspended flow claimable now. */
function wake(ctx: TxContext, flow: FenceRow, now: number): void {
  ctx.q.wake.run({ id: flow.id, now });
  ctx.emit({ type: 'ready', queue: flow.queue });
}

/** True when the wait would not block: timer due, signal buffered, child finished. */
function resolved({ q }: TxContext, flowId: string, wait: Wait, now: number): boolean {
  if (wait.kind === 'timer') return wait.at <= now;
  if (wait.kind === 'signal') return q.oldestSignal.get({ flowId, name: wait.name }) !== undefined;
  const child = q.fence.get({ id: wait.flowId });
  return child !== undefined && isTerminalStatus(child.status as FlowStatus);
}

/** Keeps only the waits' own fields, so the stored JSON is the store's. */
function ownFields(waits: readonly Wait[]): Wait[] {
  return waits.map((w): Wait => {
    if (w.kind === 'timer') return { kind: 'timer', at: w.at, position: w.position };
    if (w.kind === 'signal') return { kind: 'signal', name: w.name, position: w.position };
    return { kind: 'child', flowId: w.flowId, position: w.position };
  });
}
