/**
 * The next claims of finishes (core's `FinishRequest.next`): a finish that carries its worker's
 * next claim makes it once the finish is written. With one partition the claim runs in the
 * finish's own script (finish-claim, apply-claim: `scripts/includes/claim-ready.lua`); with more
 * it is a claim of its own (`claims.ts`) made after the finish. In a batch, the next claims of
 * one worker with the same types, queues and lease are merged into one claim whose limit is the
 * sum of theirs, made once after the batch's writes and shared out among its finishes in order:
 * one claim for the server to run rather than several, and the worker parked once, with the
 * slots the whole claim leaves free (a park is the worker's last: several parking claims of limit
 * 1 would each record one free slot).
 *
 * @module
 */
import type { BatchOutcome, BatchWrite, ClaimedFlow, ClaimRequest, NextClaim } from '@ergon/core';
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

/** The next claims of several finishes made as one. */
export interface MergedClaim {
  /** The claim: the finishes' summed limit, the latest finish's time, the last one's park. */
  request: ClaimRequest;
  /** Its finishes in order: their place among the writes, and the limit of each. */
  readonly members: { readonly index: number; readonly limit: number }[];
}

/** The next claims of `writes`' finishes, merged by worker, types, queues and lease. */
export function mergeNext(writes: readonly BatchWrite[]): MergedClaim[] {
  const merged: MergedClaim[] = [];
  for (const [index, write] of writes.entries()) {
    if (write.op !== 'finish' || write.request.next === undefined) continue;
    const { next, now } = write.request;
    // Compared with the few claims so far (a store's workers: usually one), no key built.
    const claim = merged.find((c) => alike(c.request, next));
    if (!claim) {
      merged.push({ request: nextRequest(next, now), members: [{ index, limit: next.limit }] });
      continue;
    }
    const { request } = claim;
    claim.request = {
      ...request,
      limit: request.limit + next.limit,
      now: Math.max(request.now, now),
      park: next.park,
    };
    claim.members.push({ index, limit: next.limit });
  }
  return merged;
}

/** Whether two claims are one worker's of the same types, queues (in the same order) and lease. */
function alike(a: ClaimRequest, b: NextClaim): boolean {
  return (
    a.workerId === b.workerId && a.leaseMs === b.leaseMs && same(a.types, b.types) && same(a.queues, b.queues)
  );
}

function same(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * apply-claim's arguments after the writes (`scripts/apply-claim-1.lua`): per claim its finishes
 * (place among the writes from 1, limit), then its claim's arguments. The script claims the sum
 * of the limits of the finishes that succeeded.
 */
export function claimSection(core: StoreCore, claims: readonly MergedClaim[]): string[] {
  const args = [String(claims.length)];
  for (const { request, members } of claims) {
    args.push(String(members.length));
    for (const m of members) args.push(String(m.index + 1), String(m.limit));
    const claim = homeClaimArgs(core, request);
    args.push(String(claim.length), ...claim);
  }
  return args;
}

/** The flows each claim took from apply-claim's reply after its writes' (`replies`: one per claim). */
export function claimedOf(
  core: StoreCore,
  claims: readonly MergedClaim[],
  replies: readonly unknown[],
): ClaimedFlow[][] {
  return claims.map((c, i) => {
    const rows = replies[i];
    return claimedRows(core, HOME, Array.isArray(rows) ? rows : [], c.request);
  });
}

/**
 * Gives each finish that succeeded its share of its claim's flows (`taken`: per claim), in
 * order, up to its own limit: its outcome's value becomes its `FinishResult`.
 */
export function shareClaims(
  claims: readonly MergedClaim[],
  taken: readonly (ClaimedFlow[] | undefined)[],
  outcomes: BatchOutcome[],
): void {
  for (const [i, { members }] of claims.entries()) {
    const flows = taken[i];
    if (flows === undefined) continue;
    let from = 0;
    for (const { index, limit } of members) {
      if (!outcomes[index]?.ok) continue;
      const claimed = flows.slice(from, from + limit);
      from += claimed.length;
      outcomes[index] = { ok: true, value: { claimed } };
    }
  }
}

/**
 * The claims made after the writes, each a claim of its own (a partitioned store): the sum of the
 * limits of the finishes that succeeded. A claim that fails leaves its finishes without `claimed`
 * (their workers claim as usual): the finishes were made.
 */
export async function claimAfter(
  core: StoreCore,
  claims: readonly MergedClaim[],
  outcomes: BatchOutcome[],
): Promise<void> {
  const taken: (ClaimedFlow[] | undefined)[] = [];
  for (const { request, members } of claims) {
    const limit = members.reduce((n, m) => n + (outcomes[m.index]?.ok ? m.limit : 0), 0);
    taken.push(limit > 0 ? await claimOrNone(core, { ...request, limit }) : []);
  }
  shareClaims(claims, taken, outcomes);
}

/** A claim of its own after a finish: its flows, or undefined when it failed. */
export function claimOrNone(core: StoreCore, request: ClaimRequest): Promise<ClaimedFlow[] | undefined> {
  return claimReady(core, request).catch((error: unknown) => {
    core.runner.noteError(error);
    return undefined;
  });
}
