/**
 * The update of a claim: the chosen flows leased to the worker in one
 * statement (`claimMany`), handed out in the order they were chosen. Shared by
 * the plain claim (`leases.ts`) and the claim of a controlled queue
 * (`flow-control-claim.ts`). The plain claim of one queue and type chooses and
 * leases in one statement (`claimReady`).
 *
 * @module
 */
import { type ClaimedFlow, type ClaimRequest, FlowNotFoundError } from '@ergon/core';
import type { TxContext } from './queries.js';
import { type FlowRow, flowRowOf, toFlowRecord } from './rows.js';

/** Leases `chosen` (read in this transaction) to the request's worker, in their order. */
export function claimRows(
  { q, held }: TxContext,
  chosen: readonly { readonly num: number; readonly id: string }[],
  request: Pick<ClaimRequest, 'workerId' | 'leaseMs' | 'now'>,
): ClaimedFlow[] {
  if (chosen.length === 0) return [];
  const { workerId, leaseMs, now } = request;
  // One statement for all: rows come back in key order, handed out in the chosen order.
  const nums = JSON.stringify(chosen.map((candidate) => candidate.num));
  const byNum = new Map<number, FlowRow>();
  for (const text of q.claimMany.all({ nums, workerId, expiresAt: now + leaseMs, now })) {
    const row = flowRowOf(JSON.parse(text) as unknown[]);
    byNum.set(row.num, row);
    const { id, num, fencing_token: token, queue, parent_id } = row;
    held.claimed({ id, num, token, queue, parent_id });
  }
  return chosen.map((candidate) => {
    const row = byNum.get(candidate.num);
    if (!row) throw new FlowNotFoundError(candidate.id);
    return { flow: toFlowRecord(row), token: row.fencing_token };
  });
}

/**
 * Chooses and leases, in one statement (`claimReady`), up to `limit` ready flows of one queue and
 * type, best first. Only when no lease of the queue has expired (those are candidates too, which
 * `leases.ts` merges in).
 */
export function claimReady(
  { q, held }: TxContext,
  request: Pick<ClaimRequest, 'workerId' | 'leaseMs' | 'now' | 'limit'> & { queue: string; type: string },
): ClaimedFlow[] {
  const { workerId, leaseMs, now, limit, queue, type } = request;
  const rows: FlowRow[] = [];
  for (const text of q.claimReady.all({ queue, type, now, limit, workerId, expiresAt: now + leaseMs })) {
    const row = flowRowOf(JSON.parse(text) as unknown[]);
    rows.push(row);
    const { id, num, fencing_token: token, parent_id } = row;
    held.claimed({ id, num, token, queue: row.queue, parent_id });
  }
  // Rows come back in key order; hand them out in the order they were chosen (`flows_ready`'s).
  if (rows.length > 1) rows.sort(readyOrder);
  return rows.map((row) => ({ flow: toFlowRecord(row), token: row.fencing_token }));
}

/** Priority descending, then runAt ascending, then id: the order of the `flows_ready` index. */
function readyOrder(a: FlowRow, b: FlowRow): number {
  return (
    b.priority - a.priority || (a.run_at ?? 0) - (b.run_at ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}
