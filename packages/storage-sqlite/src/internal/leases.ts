/**
 * Claims, leases and fencing. A claim bumps the fencing token; every later
 * write of the claimer must carry that token ({@link fence}), checked in the
 * same transaction as the write it guards.
 *
 * @module
 */
import {
  type ClaimedFlow,
  type ClaimRequest,
  FlowNotFoundError,
  LeaseLostError,
  type LeaseRef,
  type QueueLimits,
  type ReleaseRequest,
  type RenewRequest,
  type WakeFilter,
} from '@ergon/core';
import { claimReady, claimRows } from './claim-rows.js';
import { controlledQueues } from './flow-control.js';
import { claimControlled } from './flow-control-claim.js';
import type { CandidateRow, FenceRow, HolderRow, TxContext } from './queries.js';

/** The flow row if `lease` holds it. @throws FlowNotFoundError, LeaseLostError. */
export function fence({ q }: TxContext, lease: LeaseRef): FenceRow {
  return checkHolder(q.fence.get({ id: lease.flowId }), lease);
}

/** {@link fence} reading fewer columns, for history writes. */
export function fenceHolder({ q }: TxContext, lease: LeaseRef): HolderRow {
  return checkHolder(q.holder.get({ id: lease.flowId }), lease);
}

function checkHolder<Row extends HolderRow>(flow: Row | undefined, lease: LeaseRef): Row {
  if (!flow) throw new FlowNotFoundError(lease.flowId);
  if (flow.fencing_token !== lease.token || flow.status !== 'running') {
    throw new LeaseLostError(lease.flowId, lease.token);
  }
  return flow;
}

/** Claims up to `limit` ready flows (or the one named by `flowId`), best first. */
export function claimFlows(ctx: TxContext, request: ClaimRequest): ClaimedFlow[] {
  const controlled = controlledQueues(ctx, request.queues);
  return controlled.size > 0 ? claimWithControl(ctx, request, controlled) : claimFlowsIn(ctx, request);
}

/** {@link claimFlows} in queues without flow control. */
function claimFlowsIn(ctx: TxContext, request: ClaimRequest): ClaimedFlow[] {
  const { q } = ctx;
  const { limit, now, types, queues } = request;
  let candidates: CandidateRow[];
  const [queue] = queues;
  const [type] = types;
  if (request.flowId === undefined && queue !== undefined && queues.length === 1 && types.length === 1) {
    // One queue and type with no expired lease (the usual claim): choose and lease in one statement.
    if (type !== undefined && q.anyExpired.get({ queue, now })?.any !== 1)
      return claimReady(ctx, { ...request, queue, type });
  }
  if (request.flowId !== undefined) {
    const one = q.candidate.get({ id: request.flowId, now });
    candidates = one && types.includes(one.type) && queues.includes(one.queue) ? [one] : [];
  } else {
    candidates = readyFlows(ctx, { queues, types, now, limit });
  }
  return claimRows(ctx, candidates, request);
}

/**
 * A claim that includes controlled queues (flow control): the other queues first, as usual, then
 * each controlled queue within its limits and in fair order, up to the limit in all.
 */
function claimWithControl(
  ctx: TxContext,
  request: ClaimRequest,
  controlled: ReadonlyMap<string, QueueLimits | undefined>,
): ClaimedFlow[] {
  const free = request.queues.filter((queue) => !controlled.has(queue));
  let claimed = free.length > 0 ? claimFlowsIn(ctx, { ...request, queues: free }) : [];
  for (const [queue, limits] of controlled) {
    const limit = request.limit - claimed.length;
    if (limit <= 0) break;
    if (request.flowId !== undefined && claimed.length > 0) break;
    claimed = claimed.concat(claimControlled(ctx, queue, limits, { ...request, limit }));
  }
  return claimed;
}

/** Ready flows of these queues and types in claim order, at most `limit`. */
function readyFlows(
  { q }: TxContext,
  filter: { queues: readonly string[]; types: readonly string[]; now: number; limit: number },
): CandidateRow[] {
  let candidates: CandidateRow[] = [];
  let merge = filter.queues.length * filter.types.length > 1;
  for (const queue of filter.queues) {
    // Running flows whose lease expired are claimable too (usually there are none).
    const expired = q.anyExpired.get({ queue, now: filter.now })?.any === 1;
    for (const type of filter.types) {
      const values = { queue, type, now: filter.now, limit: filter.limit };
      const rows = q.claimCandidates.all(values).map(candidateOf);
      candidates = candidates.length === 0 ? rows : candidates.concat(rows);
      if (expired) {
        candidates = candidates.concat(q.expiredCandidates.all(values));
        merge = true;
      }
    }
  }
  // Each (queue, type) comes back in claim order already; several need one merge.
  return merge ? candidates.sort(claimOrder).slice(0, filter.limit) : candidates;
}

/** A candidate from its values as `claimCandidates` returns them (one JSON array). */
function candidateOf(text: string): CandidateRow {
  const [num, id, priority, run_at] = JSON.parse(text) as [number, string, number, number];
  return { num, id, priority, run_at };
}

/** Priority descending, then runAt ascending, then id: the order of the `flows_ready` index. */
function claimOrder(a: CandidateRow, b: CandidateRow): number {
  return b.priority - a.priority || a.run_at - b.run_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Extends a held lease. */
export function renewLease(ctx: TxContext, lease: RenewRequest): boolean {
  const flow = fence(ctx, lease);
  ctx.q.renew.run({ id: flow.id, expiresAt: lease.now + lease.leaseMs });
  return flow.cancel_requested !== 0;
}

/** Gives a held flow back as pending (with an error: abandoned, counted); a stale token is ignored. */
export function releaseLease(ctx: TxContext, lease: ReleaseRequest): void {
  const { now } = lease;
  const runAt = lease.retryAt ?? now;
  const released = ctx.q.release.get({
    id: lease.flowId,
    token: lease.token,
    now,
    runAt,
    error: lease.error ?? null,
  });
  ctx.held.ended(lease.flowId);
  if (released) ctx.emit({ type: 'ready', queue: released.queue, at: runAt > now ? runAt : undefined });
}

/** The earliest time a flow of these types and queues becomes claimable. */
export function nextWakeAt({ q }: TxContext, filter: WakeFilter): number | undefined {
  let next: number | undefined;
  for (const queue of filter.queues) {
    for (const type of filter.types) {
      // The earliest ready flow, and the lease that expires first.
      for (const at of [q.nextReady.get({ queue, type })?.at, q.nextExpiry.get({ queue, type })?.at]) {
        if (at !== null && at !== undefined && (next === undefined || at < next)) next = at;
      }
    }
  }
  return next;
}
