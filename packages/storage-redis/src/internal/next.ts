/**
 * The next claims of finishes (core's `FinishRequest.next`): a finish that carries its worker's
 * next claim makes it once the finish is written. With one partition the claim runs in the
 * finish's own script (finish-claim, apply-claim: `scripts/includes/claim-ready.lua`); with more
 * it is a claim of its own (`claims.ts`) made after the finish. In a batch, the alike next claims
 * are merged into one claim, made once after the batch's writes and shared out among its
 * finishes in order (core's `next-claims.ts`): one claim for the server to run rather than
 * several, and the worker parked once, with the slots the whole claim leaves free.
 *
 * @module
 */
import {
  type BatchOutcome,
  type BatchWrite,
  type ClaimedFlow,
  type ClaimRequest,
  groupNextClaims,
  type NextClaim,
  type NextClaimGroup,
  shareNextClaims,
} from '@ergon/core';
import { homeClaimArgs } from './claim-args.js';
import { claimedRows } from './claimed.js';
import { claimReady } from './claims.js';
import type { StoreCore } from './core.js';
import { HOME } from './partitions.js';

/** The claim a finish's `next` makes: `claim({ ...next, now })` at the finish's time. */
export function nextRequest(next: NextClaim, now: number): ClaimRequest {
  const { workerId, types, queues, limit, leaseMs, park } = next;
  return { workerId, types, queues, limit, leaseMs, park, now };
}

/**
 * The next claims of `writes`' finishes, merged (core's `groupNextClaims`); the script, or
 * `claimAfter`, claims the sum of the limits of those that succeeded.
 */
export function mergeNext(writes: readonly BatchWrite[]): NextClaimGroup[] {
  return groupNextClaims(writes, () => true);
}

/** The limit of the finish at `index` of `writes`' next claim. */
function limitAt(writes: readonly BatchWrite[], index: number): number {
  const write = writes[index] as BatchWrite;
  return write.op === 'finish' ? (write.request.next?.limit ?? 0) : 0;
}

/**
 * apply-claim's arguments after the writes (`scripts/apply-claim-1.lua`): per claim its finishes
 * (place among the writes from 1, limit), then its claim's arguments. The script claims the sum
 * of the limits of the finishes that succeeded.
 */
export function claimSection(
  core: StoreCore,
  writes: readonly BatchWrite[],
  claims: readonly NextClaimGroup[],
): string[] {
  const args = [String(claims.length)];
  for (const { request, at } of claims) {
    args.push(String(at.length));
    for (const index of at) args.push(String(index + 1), String(limitAt(writes, index)));
    const claim = homeClaimArgs(core, request);
    args.push(String(claim.length), ...claim);
  }
  return args;
}

/** The flows each claim took from apply-claim's reply after its writes' (`replies`: one per claim). */
export function claimedOf(
  core: StoreCore,
  claims: readonly NextClaimGroup[],
  replies: readonly unknown[],
): ClaimedFlow[][] {
  return claims.map((c, i) => {
    const rows = replies[i];
    return claimedRows(core, HOME, Array.isArray(rows) ? rows : [], c.request);
  });
}

/** Gives each finish that succeeded its share of its claim's flows (`taken`: per claim; core's `shareNextClaims`). */
export function shareClaims(
  writes: readonly BatchWrite[],
  claims: readonly NextClaimGroup[],
  taken: readonly (ClaimedFlow[] | undefined)[],
  outcomes: BatchOutcome[],
): void {
  for (const [i, { at }] of claims.entries()) {
    const flows = taken[i];
    if (flows !== undefined) shareNextClaims(writes, outcomes, at, flows);
  }
}

/**
 * The claims made after the writes, each a claim of its own (a partitioned store): the sum of the
 * limits of the finishes that succeeded. A claim that fails leaves its finishes without `claimed`
 * (their workers claim as usual): the finishes were made.
 */
export async function claimAfter(
  core: StoreCore,
  writes: readonly BatchWrite[],
  claims: readonly NextClaimGroup[],
  outcomes: BatchOutcome[],
): Promise<void> {
  const taken: (ClaimedFlow[] | undefined)[] = [];
  for (const { request, at } of claims) {
    const limit = at.reduce((n, i) => n + (outcomes[i]?.ok ? limitAt(writes, i) : 0), 0);
    taken.push(limit > 0 ? await claimOrNone(core, { ...request, limit }) : []);
  }
  shareClaims(writes, claims, taken, outcomes);
}

/** A claim of its own after a finish: its flows, or undefined when it failed. */
export function claimOrNone(core: StoreCore, request: ClaimRequest): Promise<ClaimedFlow[] | undefined> {
  return claimReady(core, request).catch((error: unknown) => {
    core.runner.noteError(error);
    return undefined;
  });
}
