/**
 * Claims. With one partition: one claim script, as always. With more: the
 * partition views (`tracker.ts`) say where there is work; unknown partitions
 * are peeked first when the order between partitions matters (a claim script
 * with limit 0), then the claim goes to the best partitions at once, each
 * asked for about what it holds. When that comes back short (a view was out
 * of date: another process took the flows), the claim goes on with the next
 * candidates, the visited ones now known, at most three rounds in all.
 * Limited queues are claimed in the home partition by its own rules and
 * elsewhere under admission (`admission.ts`).
 *
 * @module
 */
import type { ClaimedFlow, ClaimRequest, WakeFilter } from '@ergon/core';
import { claimArgs, homeClaimArgs } from './claim-args.js';
import { claimedRow, claimedRows } from './claimed.js';
import type { StoreCore } from './core.js';
import { reportedEntry } from './hints.js';
import { HOME } from './partitions.js';
import { before, type Candidate, type ClaimFilter, type PartitionReport } from './tracker.js';

type RawReport = [string | null, string | null, number, string | null, (string | number)[]] | [];

/** What one visit of a partition gave. */
interface Visit {
  readonly claimed: ClaimedFlow[];
  /** Limited queues this partition left to admission, with how many of their flows are ready. */
  readonly left: readonly string[];
}

const ROUNDS = 3;

/** Claims ready flows (the contract's `claim` without `flowId`). */
export async function claimReady(core: StoreCore, request: ClaimRequest): Promise<ClaimedFlow[]> {
  if (!core.partitioned) {
    const keys = core.layout.keys(HOME);
    const args = homeClaimArgs(core, request);
    const [, ...flows] = (await core.runner.write('claim', keys, [keys.created], args)) as unknown[];
    return claimedRows(core, HOME, flows, request);
  }
  const filter = core.tracker.filter(request.queues, request.types);
  const claimed = await across(core, filter, request, request.limit, false);
  for (const queue of request.queues) {
    const want = request.limit - claimed.length;
    if (want <= 0) break;
    if (core.limited.has(queue)) claimed.push(...(await claimAdmitted(core, queue, request, want)));
  }
  return claimed;
}

/**
 * Claims up to `budget` flows of `filter` across the partitions the views point to (all but
 * home when `admitted`: then each visit takes at most what it is asked for, under admission).
 */
async function across(
  core: StoreCore,
  filter: ClaimFilter,
  request: ClaimRequest,
  budget: number,
  admitted: boolean,
): Promise<ClaimedFlow[]> {
  const skip = admitted ? HOME : undefined;
  const claimed: ClaimedFlow[] = [];
  for (let round = 0; round < ROUNDS && claimed.length < budget; round++) {
    let candidates = core.tracker.candidates(filter, request.now, skip);
    // Unknown partitions are peeked first when the order between partitions matters.
    const unknown = candidates.filter((c) => c.best === undefined);
    if (unknown.length > 0 && candidates.length > 1) {
      await Promise.all(unknown.map((c) => visit(core, filter, c.partition, request, 0, admitted)));
      candidates = core.tracker.candidates(filter, request.now, skip);
    }
    if (candidates.length === 0) break;
    const plan = share(order(candidates), budget - claimed.length);
    const visits = await Promise.all(plan.map(([p, n]) => visit(core, filter, p, request, n, admitted)));
    let short = false;
    for (const [i, v] of visits.entries()) {
      claimed.push(...v.claimed);
      if (v.claimed.length < (plan[i]?.[1] ?? 0)) short = true;
      for (const queue of v.left) core.limited.add(queue);
    }
    if (!short) break;
  }
  return claimed;
}

/** Best first (known bests by claim order; unknown ones after). */
function order(candidates: Candidate[]): Candidate[] {
  return candidates.sort((a, b) => {
    if (a.best && b.best) return before(a.best, b.best) ? -1 : before(b.best, a.best) ? 1 : 0;
    return a.best ? -1 : b.best ? 1 : 0;
  });
}

/** How many to ask each partition for: about what it holds, best first, `budget` in all. */
function share(candidates: readonly Candidate[], budget: number): [number, number][] {
  const plan: [number, number][] = [];
  let left = budget;
  for (const c of candidates) {
    if (left <= 0) break;
    const n = Math.max(1, Math.min(left, c.count));
    plan.push([c.partition, n]);
    left -= n;
  }
  return plan;
}

/** Claims up to `limit` in partition `p` (0: a peek), reporting its state to the views. */
async function visit(
  core: StoreCore,
  filter: ClaimFilter,
  p: number,
  request: ClaimRequest,
  limit: number,
  admitted: boolean,
): Promise<Visit> {
  const keys = core.layout.keys(p);
  const queues = [...filter.queues];
  const args = claimArgs(request, p, limit, queues, admitted ? limit : undefined, true);
  const begun = core.tracker.begin(p);
  const run = limit > 0 ? core.runner.write.bind(core.runner) : core.runner.read.bind(core.runner);
  const [raw, ...flows] = (await run('claim', keys, [keys.created], args)) as [RawReport, ...unknown[]];
  const [score, member, count = 0, wake, left = []] = raw;
  const report: PartitionReport = {
    head: score && member ? reportedEntry(score, member) : undefined,
    count: Number(count),
    wake: wake === null || wake === undefined ? undefined : Number(wake),
  };
  core.tracker.report(filter, p, report, begun);
  const leftQueues: string[] = [];
  for (let i = 0; i + 1 < left.length; i += 2) leftQueues.push(String(left[i]));
  return { claimed: claimedRows(core, p, flows, request), left: leftQueues };
}

/** Claims flows of a limited queue outside the home partition, under admission. */
async function claimAdmitted(
  core: StoreCore,
  queue: string,
  request: ClaimRequest,
  want: number,
): Promise<ClaimedFlow[]> {
  const filter = core.tracker.filter([queue], request.types, true);
  // Nothing known to be ready elsewhere: no admission asked (an idle limited queue costs nothing).
  if (core.tracker.candidates(filter, request.now, HOME).length === 0) return [];
  const rid = core.rid();
  const leaseUntil = request.now + request.leaseMs;
  const k = await core.admission.admit(queue, want, request.now, leaseUntil, rid);
  if (k < 0) {
    // The limits were removed: claim freely (the partitions are told so by the next visits).
    core.limited.delete(queue);
    for (let p = 0; p < core.layout.count; p++) core.tracker.hint(p, { queue });
    return across(core, filter, request, want, true);
  }
  if (k === 0) return [];
  let taken: ClaimedFlow[] = [];
  try {
    taken = await across(core, filter, request, k, true);
  } finally {
    // Placeholders not swapped count until the lease would expire: never too few.
    await core.admission
      .commit(
        queue,
        rid,
        k,
        leaseUntil,
        taken.map((c) => `${c.flow.id}:${c.token}`),
      )
      .catch(() => {});
  }
  return taken;
}

/** Claims one named flow (`claim` with `flowId`). */
export async function claimNamed(
  core: StoreCore,
  request: ClaimRequest & { flowId: string },
): Promise<ClaimedFlow[]> {
  const id = request.flowId;
  const p = await core.router.locate(id);
  const keys = core.layout.keys(p);
  const run = (quota: '' | '1') =>
    core.runner.write(
      'claim-flow',
      keys,
      [keys.flow(id)],
      [
        id,
        request.workerId,
        String(request.now + request.leaseMs),
        String(request.now),
        p === HOME ? 'h' : '',
        quota,
        String(request.queues.length),
        ...request.queues,
        ...request.types,
      ],
    ) as Promise<unknown[]>;
  let reply = await run('');
  if (reply[0] === 'admit') {
    const queue = String(reply[1]);
    core.limited.add(queue);
    const rid = core.rid();
    const leaseUntil = request.now + request.leaseMs;
    const k = await core.admission.admit(queue, 1, request.now, leaseUntil, rid);
    if (k === 0) return [];
    let claimed: ClaimedFlow[] = [];
    try {
      reply = await run('1');
      claimed = reply.map((row) => claimedRow(core, p, row, request));
    } finally {
      if (k > 0) {
        const taken = claimed.map((c) => `${c.flow.id}:${c.token}`);
        await core.admission.commit(queue, rid, k, leaseUntil, taken).catch(() => {});
      }
    }
    return claimed;
  }
  return reply.map((row) => claimedRow(core, p, row, request));
}

/** The contract's `nextWakeAt`. */
export async function nextWake(core: StoreCore, filter: WakeFilter): Promise<number | undefined> {
  const { types, queues } = filter;
  if (!core.partitioned) {
    const keys = core.layout.keys(HOME);
    const args = [String(queues.length), ...queues, ...types];
    const reply = await core.runner.read('next-wake-at', keys, [keys.created], args);
    return reply === null || reply === undefined ? undefined : Number(reply);
  }
  const filters = [core.tracker.filter(queues, types)];
  for (const queue of queues)
    if (core.limited.has(queue)) filters.push(core.tracker.filter([queue], types, true));
  let at: number | undefined;
  for (const f of filters) {
    const skip = f.admitted ? HOME : undefined;
    let known = core.tracker.nextWake(f, skip);
    if (known.unknown.length > 0) {
      // Peeked "at time 0": nothing is promoted, so no caller's clock is needed, and the
      // views learn the ready sets and due times as they are (an idle store is asked once).
      const peek: ClaimRequest = { workerId: '', types, queues: [...f.queues], limit: 1, leaseMs: 0, now: 0 };
      await Promise.all(known.unknown.map((p) => visit(core, f, p, peek, 0, f.admitted)));
      known = core.tracker.nextWake(f, skip);
    }
    if (known.at !== undefined && (at === undefined || known.at < at)) at = known.at;
  }
  return at;
}
