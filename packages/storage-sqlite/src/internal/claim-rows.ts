/**
 * The update of a claim: the chosen flows leased to the worker in one
 * statement (`claimMany`), handed out in the order they were chosen. Shared by
 * the plain claim (`leases.ts`) and the claim of a controlled queue
 * (`flow-control-claim.ts`).
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
