/**
 * A finish that claims its worker's next flows (`FinishRequest.next`,
 * capability `finishClaims`): in the finish's own transaction, once the finish
 * is written, the claim `claim({ ...next, now })` would make (`leases.ts`). A
 * refused finish throws before it, so claims nothing.
 *
 * In a batch (`applyWrites`) the claims come after all of the batch's writes,
 * and the finishes whose next claims are alike (one worker, the same types,
 * queues, lease and park) make one claim together, of their limits summed,
 * whose flows are shared out among them in batch order, each taking up to its
 * own limit: one walk of the ready index where there would be one per finish.
 *
 * @module
 */
import type {
  BatchOutcome,
  BatchWrite,
  ClaimedFlow,
  FinishRequest,
  FinishResult,
  NextClaim,
} from '@ergon/core';
import { claimFlows } from './leases.js';
import { finishFlow } from './lifecycle.js';
import type { TxContext } from './queries.js';

/** Ends a held flow, then makes its worker's next claim when it asks for one. */
export function finishAndClaim(ctx: TxContext, request: FinishRequest): FinishResult | undefined {
  finishFlow(ctx, request);
  const { next } = request;
  return next ? { claimed: claimFlows(ctx, { ...next, now: request.now }) } : undefined;
}

/** Finishes of a batch whose next claims are made as one. */
interface Merged {
  readonly next: NextClaim;
  limit: number;
  now: number;
  /** The finishes' places in the batch, in order. */
  readonly at: number[];
}

/** What makes two next claims one: all but the limit. */
function claimKey(next: NextClaim): string {
  const park = next.park === true ? 1 : 0;
  return `${next.workerId}\u0000${next.leaseMs}\u0000${park}\u0000${next.types.join('\u0000')}\u0001${next.queues.join('\u0000')}`;
}

/**
 * Makes the next claims of a batch's finishes that succeeded, merged (see the module notes), and
 * puts each finish's share in its outcome. Runs after the batch's writes, in its transaction.
 */
export function claimAfterBatch(
  ctx: TxContext,
  writes: readonly BatchWrite[],
  outcomes: BatchOutcome[],
): void {
  const merged = new Map<string, Merged>();
  for (let i = 0; i < writes.length; i++) {
    const write = writes[i] as BatchWrite;
    if (write.op !== 'finish' || !write.request.next || !outcomes[i]?.ok) continue;
    const { next, now } = write.request;
    const key = claimKey(next);
    const group = merged.get(key);
    if (group) {
      group.limit += next.limit;
      group.now = Math.max(group.now, now);
      group.at.push(i);
    } else {
      merged.set(key, { next, limit: next.limit, now, at: [i] });
    }
  }
  for (const { next, limit, now, at } of merged.values()) {
    const claimed = claimFlows(ctx, { ...next, limit, now });
    shareOut(writes, outcomes, at, claimed);
  }
}

/** Gives `claimed` to the finishes at `at`, in order, each up to its next claim's limit. */
export function shareOut(
  writes: readonly BatchWrite[],
  outcomes: BatchOutcome[],
  at: readonly number[],
  claimed: readonly ClaimedFlow[],
): void {
  let from = 0;
  for (const i of at) {
    const { request } = writes[i] as Extract<BatchWrite, { op: 'finish' }>;
    const take = Math.min(request.next?.limit ?? 0, claimed.length - from);
    outcomes[i] = { ok: true, value: { claimed: claimed.slice(from, from + take) } };
    from += take;
  }
}

/** Whether a finish of `writes` asks for a next claim. */
export function asksNext(writes: readonly BatchWrite[]): boolean {
  return writes.some((write) => write.op === 'finish' && write.request.next !== undefined);
}
