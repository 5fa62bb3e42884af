/**
 * `listFlows`: a filtered, newest-first page, keyset-paged by `(created_at, id)`
 * so each page is an index range however deep the cursor is: of `flows_listed`
 * for flows that are not running, of `flows_lease` for running ones (sorted:
 * as many as run at once), the two merged when the filter admits both
 * (migration 0014, `created-index.ts`).
 *
 * @module
 */
import { encodeCursor, type FlowPage, type NormalizedFlowQuery } from '@ergon/core';
import { type Compilable, type Kysely, sql } from 'kysely';
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
  const matching = () => {
    let select = k.selectFrom('flows').selectAll();
    if (statuses) select = select.where('status', 'in', [...statuses]);
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
    return select
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1);
  };
  // Flows that are not running, newest first from flows_listed (LISTED, `created-index.ts`).
  const listed = () => matching().where('status', '<>', 'running');
  // Running flows from flows_lease (LEASED, `ready-index.ts`): a running flow's wake_at is its
  // lease's end, never null; said, it lets the planner read them there (a worker's start asks for
  // them, looking for dead workers' flows), then sort them, as few as run at once.
  const running = () => matching().where('status', '=', 'running').where('wake_at', 'is not', null);
  const onlyRunning = statuses?.every((status) => status === 'running') === true;
  const noneRunning = statuses !== undefined && !statuses.includes('running');
  const statement: Compilable = onlyRunning
    ? running()
    : noneRunning
      ? listed()
      : {
          compile: () =>
            sql`(${listed()}) union all (${running()})
              order by created_at desc, id desc limit ${limit + 1}`.compile(k),
        };
  const { rows } = await on.query<FlowRow>(adhoc(statement));
  const page = rows.slice(0, limit).map(toFlowRecord);
  const last = page[page.length - 1];
  return {
    flows: page,
    nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : undefined,
  };
}
