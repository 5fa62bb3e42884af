/**
 * Claims, leases and fencing. A claim bumps the fencing token; every later
 * write of the claimer carries it, and each write checks it in the statement
 * (or the transaction, under the flow's row lock) that it guards.
 *
 * @module
 */
import {
  type ClaimedFlow,
  type ClaimRequest,
  FlowNotFoundError,
  LeaseLostError,
  type LeaseRef,
  type ReleaseRequest,
  type RenewRequest,
  type RenewResult,
  type WakeFilter,
} from '@ergon/core';
import { type ClaimedTuple, type ClaimJsonRow, fromTuple, tupleOrder, tupleToken } from './claimed.js';
import type { Context } from './context.js';
import { type Queryable, rows } from './db.js';
import { claimControlled } from './flow-control.js';
import { HAND_OFF_LEASE_MAX_MS } from './hand-off.js';
import type { FenceRow } from './queries.js';
import { type ClaimedRow, toClaimedRecord } from './rows.js';

/** The flow row, locked, if `lease` holds it. @throws FlowNotFoundError, LeaseLostError. */
export async function fence({ q }: Context, tx: Queryable, lease: LeaseRef): Promise<FenceRow> {
  const [flow] = await rows(tx, q.fence, { id: lease.flowId });
  if (!flow) throw new FlowNotFoundError(lease.flowId);
  if (flow.fencing_token !== lease.token || flow.status !== 'running') {
    throw new LeaseLostError(lease.flowId, lease.token);
  }
  return flow;
}

/** Why a fenced statement changed nothing: the flow is gone, or the lease is someone else's. */
export async function leaseError({ db, q }: Context, lease: LeaseRef): Promise<Error> {
  const [flow] = await rows(db.pool, q.flow, { id: lease.flowId });
  return flow ? new LeaseLostError(lease.flowId, lease.token) : new FlowNotFoundError(lease.flowId);
}

/**
 * What a claim that took nothing parses to: an empty array of the kind `JSON.parse` makes of a
 * non-empty one (`[null]` less its element), not the kind of a parsed `[]`, which would deoptimise
 * the optimised claim (a new array map) when a drained queue or an idle poll claims nothing. Never
 * changed (sorted only when longer than one).
 */
const NO_TUPLES: ClaimedTuple[] = [null as unknown as ClaimedTuple];
NO_TUPLES.pop();

/**
 * Claims up to `limit` ready flows (or the one named by `flowId`), best first: those of queues
 * without flow control in one statement, which also names the requested queues under flow
 * control; then each of those in turn, under its queue's lock.
 */
export async function claimFlows(ctx: Context, request: ClaimRequest): Promise<ClaimedFlow[]> {
  return claimControlledAfter(ctx, request, await claimFree(ctx, request));
}

/**
 * The end of {@link claimFlows} after the claim of the queues without flow control (`first`, its
 * statement's or a finish's: `batch-next.ts`): each requested queue under flow control in turn.
 */
export async function claimControlledAfter(
  ctx: Context,
  request: ClaimRequest,
  first: { claimed: ClaimedFlow[]; controlled: readonly string[] },
): Promise<ClaimedFlow[]> {
  let all = first.claimed;
  for (const queue of first.controlled) {
    const limit = request.limit - all.length;
    if (limit <= 0 || (request.flowId !== undefined && all.length > 0)) break;
    all = all.concat(await claimControlled(ctx, queue, { ...request, limit }));
  }
  return all;
}

/** The values of the claim function (`claim-park.ts`) for `request`. */
export function claimValues(request: ClaimRequest) {
  return {
    id: request.flowId,
    queues: request.queues,
    types: request.types,
    now: request.now,
    limit: request.limit,
    workerId: request.workerId,
    expiresAt: request.now + request.leaseMs,
    park: request.park === true,
    handLeaseMs: Math.min(HAND_OFF_LEASE_MAX_MS, request.leaseMs),
  };
}

/**
 * {@link claimFlows} in the queues without flow control: one statement, which also parks or
 * unparks the worker (`hand-off.ts`); a claim of one named flow leaves that as it is.
 */
async function claimFree(
  { db, q, listener }: Context,
  request: ClaimRequest,
): Promise<{ claimed: ClaimedFlow[]; controlled: readonly string[] }> {
  const values = claimValues(request);
  if (request.flowId !== undefined) return claimOne({ db, q }, values);
  if (values.park) listener.parking(request.workerId);
  const [found] = await rows(db.pool, q.claimPark, values);
  return claimedOf(found, request);
}

/** The claimed flows and the requested queues under flow control, from the claim statement's row. */
export function claimedOf(
  found: ClaimJsonRow | undefined,
  request: Pick<ClaimRequest, 'workerId' | 'leaseMs' | 'now'>,
): { claimed: ClaimedFlow[]; controlled: readonly string[] } {
  const names = found?.controlled ?? '[]';
  const controlled: string[] = names === '[]' ? [] : JSON.parse(names);
  const text = found?.flows ?? '[]';
  const claimed = text === '[]' ? NO_TUPLES : (JSON.parse(text) as ClaimedTuple[]);
  // json_agg keeps no order: put them back in claim order.
  if (claimed.length > 1) claimed.sort(tupleOrder);
  const lease = { workerId: request.workerId, expiresAt: request.now + request.leaseMs, now: request.now };
  const flows = new Array<ClaimedFlow>(claimed.length);
  for (let i = 0; i < claimed.length; i++) {
    const tuple = claimed[i] as ClaimedTuple;
    flows[i] = { flow: fromTuple(tuple, lease), token: tupleToken(tuple) };
  }
  return { claimed: flows, controlled };
}

/** The claim of the one flow `values.id` names, in the queues without flow control. */
async function claimOne(
  { db, q }: Pick<Context, 'db' | 'q'>,
  values: { workerId: string; expiresAt: number; now: number },
): Promise<{ claimed: ClaimedFlow[]; controlled: readonly string[] }> {
  const found = await rows(db.pool, q.claimOne, values);
  const names = found[0]?.controlled ?? '[]';
  const controlled: string[] = names === '[]' ? [] : JSON.parse(names);
  // The one row of a claim that took nothing has no flow.
  const claimed = (found[0]?.id === null ? [] : found) as ClaimedRow[];
  const lease = { workerId: values.workerId, expiresAt: values.expiresAt, now: values.now };
  return {
    claimed: claimed.map((row) => ({ flow: toClaimedRecord(row, lease), token: row.fencing_token })),
    controlled,
  };
}

/** Extends a held lease. */
export async function renewLease(ctx: Context, lease: RenewRequest): Promise<RenewResult> {
  const [row] = await rows(ctx.db.urgent, ctx.q.renew, {
    id: lease.flowId,
    token: lease.token,
    expiresAt: lease.now + lease.leaseMs,
  });
  if (!row) throw await leaseError(ctx, lease);
  return { cancelRequested: row.cancel_requested };
}

/** Gives a held flow back as pending (with an error: abandoned, counted); a stale token is ignored. */
export async function releaseLease({ db, q, notifier }: Context, lease: ReleaseRequest): Promise<void> {
  const runAt = lease.retryAt ?? lease.now;
  const [released] = await rows(db.pool, q.release, {
    id: lease.flowId,
    token: lease.token,
    now: lease.now,
    runAt,
    error: lease.error,
  });
  if (released) {
    notifier.send([{ type: 'ready', queue: released.queue, at: runAt > lease.now ? runAt : undefined }]);
  }
}

/** The earliest time a flow of these types and queues becomes claimable. */
export async function nextWakeAt({ db, q }: Context, filter: WakeFilter): Promise<number | undefined> {
  const [row] = await rows(db.pool, q.nextWake, { queues: filter.queues, types: filter.types });
  return row?.at ?? undefined;
}
