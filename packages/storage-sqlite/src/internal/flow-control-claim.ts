/**
 * A claim of a controlled queue (core's `queues.ts`): as many ready flows as
 * its limits leave room for (queue concurrency, rate, per-key concurrency), in
 * fair order (priority, then fair-queueing tag); each start logged for the
 * rate, and the queue's virtual time advanced to the largest tag claimed. Runs
 * inside the claim's IMMEDIATE transaction.
 *
 * @module
 */
import { type ClaimedFlow, type ClaimRequest, FAIR_SCAN, type QueueLimits, takeKeySlot } from '@ergon/core';
import { claimRows } from './claim-rows.js';
import { type CandidateEntry, candidateOf, fairOrder } from './flow-control-candidates.js';
import type { FairCandidate } from './flow-control-queries.js';
import type { TxContext } from './queries.js';

/**
 * Claims up to `request.limit` ready flows of one controlled queue, within its limits, in fair
 * order; records their starts and advances the queue's virtual time.
 */
export function claimControlled(
  ctx: TxContext,
  queue: string,
  limits: QueueLimits | undefined,
  request: ClaimRequest,
): ClaimedFlow[] {
  const { q } = ctx;
  const { now } = request;
  let slots = request.limit;
  if (limits?.concurrency !== undefined) {
    slots = Math.min(slots, limits.concurrency - (q.fcRunning.get({ queue, now })?.n ?? 0));
  }
  const rate = limits?.rate;
  const startAt = rate ? (q.fcEffective.get({ queue, now })?.at ?? now) : now;
  if (rate) {
    const from = startAt - rate.periodMs;
    q.fcPruneStarts.run({ queue, from });
    slots = Math.min(slots, rate.limit - (q.fcStarts.get({ queue, from })?.n ?? 0));
  }
  if (slots <= 0) return [];
  const keyRunning = new Map(q.fcKeyRunning.all({ queue, now }).map((r) => [r.key, r.n]));
  // Chosen here, leased together at the end (`claimRows`): until then they stay in the ready set.
  const chosen: FairCandidate[] = [];
  let virtual = 0;
  // Candidates in pages that grow, so a claim reads about what it takes unless keys are full: the
  // first page holds the open slots and a few more (every row read costs a table lookup).
  const scan = request.limit + FAIR_SCAN;
  let page = Math.min(scan, Math.max(16, slots + 8));
  let offset = 0;
  while (chosen.length < slots && offset < scan) {
    let candidates: readonly CandidateEntry[] = [];
    let more = false;
    if (request.flowId !== undefined) {
      const one = q.fcCandidate.get({ id: request.flowId, now });
      if (one && one.queue === queue && request.types.includes(one.type)) candidates = [one];
    } else {
      // Running flows whose lease expired join the first page (usually there are none).
      const expired = offset === 0 && q.anyExpired.get({ queue, now })?.any === 1;
      for (const type of request.types) {
        const rows = q.fcCandidates.all({ queue, type, now, limit: page, offset });
        more ||= rows.length === page;
        candidates = candidates.length === 0 ? rows : candidates.concat(rows);
        if (expired) candidates = candidates.concat(q.fcExpired.all({ queue, type, now, limit: scan }));
      }
      // Merged lists are parsed whole to be sorted; a single one is parsed only as far as it is read.
      if (request.types.length > 1 || expired) candidates = candidates.map(candidateOf).sort(fairOrder);
    }
    for (const entry of candidates) {
      if (chosen.length >= slots) break;
      const candidate = candidateOf(entry);
      const { concurrency_key: key, concurrency_limit: limit } = candidate;
      if (!takeKeySlot(keyRunning, key, limit, limits?.keyConcurrency)) continue;
      chosen.push(candidate);
      if (rate) q.fcAddStart.run({ queue, now: startAt });
      virtual = Math.max(virtual, candidate.fair_tag ?? 0);
    }
    if (!more) break;
    offset += page;
    page = Math.min(page * 2, scan - offset);
  }
  const claimed = claimRows(ctx, chosen, request);
  if (virtual > 0) q.fcAdvance.run({ queue, tag: virtual });
  return claimed;
}
