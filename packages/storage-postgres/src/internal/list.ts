/**
 * `listFlows`: a filtered, newest-first page, keyset-paged by `(created_at, id)`
 * so each page is one index range however deep the cursor is.
 *
 * @module
 */
import { encodeCursor, type FlowPage, type NormalizedFlowQuery } from '@ergon/core';
import type { Kysely } from 'kysely';
import { adhoc, type Queryable } from './db.js';
import { type FlowRow, toFlowRecord } from './rows.js';
import type { Schema } from './schema.js';

/** One page of flows matching `query` (normalised by the runtime wrapper). */
export async function listFlows(
  k: Kysely<Schema>,
  on: Queryable,
  query: NormalizedFlowQuery,
): Promise<FlowPage> {
  const { statuses, limit, after } = query;
  let select = k.selectFrom('flows').selectAll();
  if (statuses) select = select.where('status', 'in', [...statuses]);
  // A running flow's wake_at is its lease's end, never null: said, it lets the planner read the
  // running flows from flows_lease (LEASED, `ready-index.ts`) instead of walking every flow newest
  // first, finished ones included (what a worker's start asks, looking for dead workers' flows).
  if (statuses?.every((status) => status === 'running')) select = select.where('wake_at', 'is not', null);
  if (query.type !== undefined) select = select.where('type', '=', query.type);
  if (query.queue !== undefined) select = select.where('queue', '=', query.queue);
  if (query.parentId !== undefined) select = select.where('parent_id', '=', query.parentId);
  if (query.since !== undefined) select = select.where('created_at', '>=', query.since);
  if (after) {
    select = select.where((eb) =>
      eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)),
    );
  }
  // One row more than the page tells whether another page follows.
  const { rows } = await on.query<FlowRow>(
    adhoc(
      select
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1),
    ),
  );
  const page = rows.slice(0, limit).map(toFlowRecord);
  const last = page[page.length - 1];
  return {
    flows: page,
    nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : undefined,
  };
}
