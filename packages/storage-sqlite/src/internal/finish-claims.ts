/**
 * A finish that claims its worker's next flows (`FinishRequest.next`,
 * capability `finishClaims`): in the finish's own transaction, once the finish
 * is written, the claim `claim({ ...next, now })` would make (`leases.ts`). A
 * refused finish throws before it, so claims nothing.
 *
 * In a batch (`applyWrites`) the claims come after all of the batch's writes,
 * the alike ones merged into one claim shared out among their finishes
 * (core's `next-claims.ts`): one walk of the ready index where there would be
 * one per finish.
 *
 * @module
 */
import {
  type BatchOutcome,
  type BatchWrite,
  type FinishRequest,
  type FinishResult,
  groupNextClaims,
  shareNextClaims,
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

/**
 * Makes the next claims of a batch's finishes that succeeded, merged (`groupNextClaims`), and puts
 * each finish's share in its outcome. Runs after the batch's writes, in its transaction.
 */
export function claimAfterBatch(
  ctx: TxContext,
  writes: readonly BatchWrite[],
  outcomes: BatchOutcome[],
): void {
  for (const { request, at } of groupNextClaims(writes, (i) => outcomes[i]?.ok === true))
    shareNextClaims(writes, outcomes, at, claimFlows(ctx, request));
}
