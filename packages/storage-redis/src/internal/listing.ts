/**
 * Listing and purging across partitions. `listFlows` asks every partition
 * for a page after the same cursor (newest first) and merges them: a
 * partition that stopped early (its page is full, or its walk ran out of
 * budget) knows nothing below where it stopped, so the merged page keeps
 * only flows at or above the highest such point, and the next cursor resumes
 * from the last flow returned, or from that point when the page is short.
 * `purge` goes partition by partition until its limit is used.
 *
 * @module
 */
import { encodeCursor, type FlowPage, type NormalizedFlowQuery, type PurgeRequest } from '@ergon/core';
import { flowOf, optArg, pairs } from './codec.js';
import type { StoreCore } from './core.js';
import { orderPart } from './hints.js';

/** Most created-index entries one listFlows call looks at, over all partitions. */
const LIST_BUDGET = 10_000;

/** A flow's place in the listing: its created-index member (`<createdAt16><id>`). */
function memberOf(flat: unknown): string {
  const hash = pairs(flat);
  return orderPart(Number(hash.createdAt ?? 0)) + (hash.id ?? '');
}

/** Byte order, as Redis orders the created index. */
function lex(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Implements the contract's `listFlows`. */
export async function listFlows(core: StoreCore, query: NormalizedFlowQuery): Promise<FlowPage> {
  const { limit, after, statuses } = query;
  const count = core.layout.count;
  const budget = Math.max(limit + 1, Math.ceil(LIST_BUDGET / count));
  const args = [
    optArg(after === undefined ? undefined : String(after.createdAt)),
    after?.id ?? '',
    optArg(query.since === undefined ? undefined : String(query.since)),
    String(limit),
    String(budget),
    optArg(statuses?.join(',')),
    optArg(query.type),
    optArg(query.queue),
    optArg(query.parentId),
  ];
  const pages = await Promise.all(
    core.layout.parts.map(async (keys) => {
      const [next, ...flows] = (await core.runner.read('list-flows', keys, [keys.created], args)) as [
        string,
        ...unknown[],
      ];
      return { next, flows: flows.map((flat) => ({ member: memberOf(flat), flat })) };
    }),
  );
  // Below the highest point where a partition stopped, the merge knows nothing yet.
  const floor = pages.reduce((max, page) => (page.next && lex(page.next, max) > 0 ? page.next : max), '');
  const merged = pages
    .flatMap((page) => page.flows)
    .filter((f) => lex(f.member, floor) >= 0)
    .sort((a, b) => lex(b.member, a.member));
  const page = merged.slice(0, limit);
  const next = merged.length > limit ? page.at(-1)?.member : floor || undefined;
  return {
    flows: page.map((f) => flowOf(f.flat)),
    nextCursor: next ? encodeCursor(Number(next.slice(0, 16)), next.slice(16)) : undefined,
  };
}

/** Implements the contract's `purge`: oldest first within a partition, partitions in turn. */
export async function purge(core: StoreCore, request: PurgeRequest): Promise<number> {
  let left = request.limit;
  let deleted = 0;
  for (const [p, keys] of core.layout.parts.entries()) {
    if (left <= 0) break;
    const ids = (await core.runner.write(
      'purge',
      keys,
      [keys.finished, keys.created],
      [String(request.finishedBefore), String(left)],
    )) as string[];
    deleted += ids.length;
    left -= ids.length;
    if (core.partitioned && ids.length > 0) await core.router.purged(ids, p);
  }
  return deleted;
}
