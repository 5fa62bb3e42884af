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
import { type FlowRow, toFlowRecord } from './rows.js';

/**
 * The columns a claim returns (`claimMany`, `claimReady`), in {@link claimedRowOf}'s order: a
 * claimed flow's other columns are the claim's own values (`claimSet` in `queries.ts`), so the
 * statement does not build them into its JSON nor JS parse them back.
 */
export const CLAIMED_COLUMNS = [
  'num',
  'id',
  'type',
  'queue',
  'priority',
  'input',
  'result',
  'error',
  'parent_id',
  'run_at',
  'fencing_token',
  'cancel_requested',
  'run_count',
  'abandoned_runs',
  'last_error',
  'progress',
  'progress_at',
  'trace_context',
  'concurrency_key',
  'concurrency_limit',
  'debounce_key',
  'fair_tag',
  'created_at',
  'finished_at',
] as const satisfies readonly (keyof FlowRow)[];

/** A claimed flow's row: its values in {@link CLAIMED_COLUMNS} order, and what the claim set. */
function claimedRowOf(v: readonly unknown[], workerId: string, expiresAt: number, now: number): FlowRow {
  return {
    num: v[0],
    id: v[1],
    type: v[2],
    queue: v[3],
    status: 'running',
    priority: v[4],
    input: v[5],
    result: v[6],
    error: v[7],
    parent_id: v[8],
    run_at: v[9],
    fencing_token: v[10],
    lease_owner: workerId,
    lease_expires_at: expiresAt,
    waits: '[]',
    cancel_requested: v[11],
    run_count: v[12],
    abandoned_runs: v[13],
    last_error: v[14],
    progress: v[15],
    progress_at: v[16],
    trace_context: v[17],
    concurrency_key: v[18],
    concurrency_limit: v[19],
    debounce_key: v[20],
    fair_tag: v[21],
    created_at: v[22],
    updated_at: now,
    finished_at: v[23],
  } as FlowRow;
}

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
  const expiresAt = now + leaseMs;
  for (const text of q.claimMany.all({ nums, workerId, expiresAt, now })) {
    const row = claimedRowOf(JSON.parse(text) as unknown[], workerId, expiresAt, now);
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
  const expiresAt = now + leaseMs;
  for (const text of q.claimReady.all({ queue, type, now, limit, workerId, expiresAt })) {
    const row = claimedRowOf(JSON.parse(text) as unknown[], workerId, expiresAt, now);
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
