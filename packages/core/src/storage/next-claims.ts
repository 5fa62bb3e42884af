/**
 * For stores with `capabilities.finishClaims`: the next claims of a batch's
 * finishes (`FinishRequest.next`). They are made after the batch's writes, and
 * the finishes whose next claims are alike (one worker, the same types,
 * queues, lease and park) make one claim together, of their limits summed, at
 * the latest of their times, whose flows are shared out among them in batch
 * order, each taking up to its own limit: one claim where there would be one
 * per finish, and a worker parked once with the slots the whole claim leaves
 * free (a worker's last park wins, so several parking claims of limit 1 would
 * each record one free slot).
 *
 * @module
 */
import type { BatchOutcome, BatchWrite } from './batch.js';
import type { ClaimedFlow, ClaimRequest } from './leases.js';
import type { FinishRequest, FinishResult, NextClaim } from './run-writes.js';

/** Finishes of a batch whose alike next claims are made as one claim. */
export interface NextClaimGroup {
  /** The claim: their next claim with the limits summed, at the latest of their times. */
  readonly request: ClaimRequest;
  /** The finishes' places among the writes, in order. */
  readonly at: readonly number[];
}

/** True when a finish of `writes` asks for a next claim. */
export function asksNext(writes: readonly BatchWrite[]): boolean {
  for (const write of writes) if (write.op === 'finish' && write.request.next !== undefined) return true;
  return false;
}

/** True when two next claims differ in their limit at most (one worker's runs share one object). */
export function alikeNextClaims(a: NextClaim, b: NextClaim): boolean {
  if (a === b) return true;
  return (
    a.workerId === b.workerId &&
    a.leaseMs === b.leaseMs &&
    (a.park === true) === (b.park === true) &&
    sameNames(a.types, b.types) &&
    sameNames(a.queues, b.queues)
  );
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The next claims of the finishes of `writes` that `counts` (by place: those that succeeded, or
 * are taken to), grouped by alike claims, in batch order.
 */
export function groupNextClaims(
  writes: readonly BatchWrite[],
  counts: (index: number) => boolean,
): NextClaimGroup[] {
  // Limits and times summed in place; each group's request is made once, at the end.
  const groups: { next: NextClaim; limit: number; now: number; at: number[] }[] = [];
  for (let i = 0; i < writes.length; i++) {
    const write = writes[i] as BatchWrite;
    if (write.op !== 'finish' || write.request.next === undefined || !counts(i)) continue;
    const { next, now } = write.request;
    const group = groups.find((g) => alikeNextClaims(g.next, next));
    if (group) {
      group.limit += next.limit;
      group.now = Math.max(group.now, now);
      group.at.push(i);
    } else {
      groups.push({ next, limit: next.limit, now, at: [i] });
    }
  }
  return groups.map(({ next: { workerId, types, queues, leaseMs, park }, limit, now, at }) => ({
    request: { workerId, types, queues, limit, leaseMs, park, now },
    at,
  }));
}

/**
 * Gives `claimed` to the finishes at `at` that succeeded, in order, each up to its own limit, as
 * its outcome's {@link FinishResult}.
 */
export function shareNextClaims(
  writes: readonly BatchWrite[],
  outcomes: BatchOutcome[],
  at: readonly number[],
  claimed: readonly ClaimedFlow[],
): void {
  let from = 0;
  for (const i of at) {
    if (!outcomes[i]?.ok) continue;
    const { next } = (writes[i] as { readonly request: FinishRequest }).request;
    const share = claimed.slice(from, from + (next?.limit ?? 0));
    from += share.length;
    const value: FinishResult = { claimed: share };
    outcomes[i] = { ok: true, value };
  }
}
