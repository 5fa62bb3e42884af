/**
 * The flows list: the Client's newest-first pages with the dashboard's extra
 * filters on top. A time range's end (`until`) becomes the starting cursor;
 * an id is looked up exactly, and otherwise matched as a prefix over a
 * bounded scan of the other filters' pages (the store has no id index query).
 *
 * @module
 */
import { encodeCursor, type FlowStatus, InvalidArgumentError } from '@ergon/core';
import type { Client, FlowInfo } from '@ergon/executor';
import type { FlowListPage, FlowRow } from '../api-types.js';
import { progressSummary } from '../internal/progress.js';
import { errorLine } from '../internal/values.js';
import { waitingReason } from '../internal/waiting.js';

/** The filters of `GET api/flows`. */
export interface FlowFilter {
  readonly status?: readonly FlowStatus[] | undefined;
  readonly type?: string | undefined;
  readonly queue?: string | undefined;
  /** Created at or after (ms). */
  readonly since?: number | undefined;
  /** Created at or before (ms). */
  readonly until?: number | undefined;
  /** An exact id, or an id prefix. */
  readonly id?: string | undefined;
  readonly parentId?: string | undefined;
  readonly cursor?: string | undefined;
  readonly limit?: number | undefined;
}

export const STATUSES: readonly FlowStatus[] = [
  'pending',
  'running',
  'suspended',
  'completed',
  'failed',
  'cancelled',
];

/** Most flows an id-prefix search looks at. */
export const ID_SCAN_LIMIT = 5000;
const SCAN_PAGE = 1000;

type Summary = Omit<FlowInfo, 'history' | 'signals'>;

/** Parses the query string of `GET api/flows`. @throws InvalidArgumentError for a bad value. */
export function parseFilter(query: Record<string, string | undefined>): FlowFilter {
  const text = (name: string) => {
    const value = query[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const time = (name: string) => {
    const value = text(name);
    if (value === undefined) return undefined;
    const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isFinite(ms))
      throw new InvalidArgumentError(`${name} must be a date or epoch ms (got ${value})`);
    return ms;
  };
  const statusText = text('status');
  const status = statusText?.split(',').map((s) => s.trim()) as FlowStatus[] | undefined;
  for (const s of status ?? [])
    if (!STATUSES.includes(s)) throw new InvalidArgumentError(`unknown status ${JSON.stringify(s)}`);
  const limitText = text('limit');
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500))
    throw new InvalidArgumentError('limit must be a whole number from 1 to 500');
  return {
    status,
    type: text('type'),
    queue: text('queue'),
    since: time('since'),
    until: time('until'),
    id: text('id'),
    parentId: text('parent'),
    cursor: text('cursor'),
    limit,
  };
}

/** One page of flows matching `filter`, newest first. */
export async function listFlowPage(client: Client, filter: FlowFilter): Promise<Omit<FlowListPage, 'ms'>> {
  const limit = filter.limit ?? 50;
  const base = {
    status: filter.status,
    type: filter.type,
    queue: filter.queue,
    since: filter.since,
    parentId: filter.parentId,
  };
  // "Created at or before until": the page starts after the cursor (until + 1 ms, id '').
  const cursor =
    filter.cursor ?? (filter.until === undefined ? undefined : encodeCursor(filter.until + 1, ''));
  if (filter.id === undefined) {
    const page = await client.list({ ...base, limit, cursor });
    return { flows: page.flows.map(toRow), nextCursor: page.nextCursor };
  }
  const prefix = filter.id;
  const rows: FlowRow[] = [];
  if (filter.cursor === undefined) {
    const exact = await client.get(prefix, { history: false }).catch(() => undefined);
    if (exact && matches(exact, filter)) rows.push(toRow(exact));
  }
  let scanned = 0;
  let next = cursor;
  while (rows.length < limit && scanned < ID_SCAN_LIMIT) {
    const page = await client.list({ ...base, limit: SCAN_PAGE, cursor: next });
    for (const flow of page.flows) {
      scanned++;
      if (flow.id.startsWith(prefix) && flow.id !== prefix) rows.push(toRow(flow));
      if (rows.length >= limit) {
        next = encodeCursor(flow.createdAt, flow.id);
        return { flows: rows, nextCursor: next, scanned };
      }
    }
    next = page.nextCursor;
    if (next === undefined) break;
  }
  return { flows: rows, nextCursor: next, scanned };
}

/** The list row of a flow. */
export function toRow(flow: Summary): FlowRow {
  return {
    id: flow.id,
    type: flow.type,
    queue: flow.queue,
    status: flow.status,
    createdAt: flow.createdAt,
    updatedAt: flow.updatedAt,
    finishedAt: flow.finishedAt,
    runCount: flow.runCount,
    parentId: flow.parentId,
    leaseOwner: flow.status === 'running' ? flow.leaseOwner : undefined,
    waiting:
      flow.status === 'suspended'
        ? flow.waits.map((w) =>
            w.kind === 'signal' ? `signal ${w.name}` : w.kind === 'child' ? `child ${w.flowId}` : 'timer',
          )
        : [],
    waitingFor: waitingReason(flow.waitingFor),
    error: flow.status === 'failed' || flow.status === 'cancelled' ? errorLine(flow.error) : undefined,
    progress: flow.progressAt === undefined ? undefined : progressSummary(flow.progress),
  };
}

function matches(flow: Summary, filter: FlowFilter): boolean {
  return (
    (filter.status === undefined || filter.status.includes(flow.status)) &&
    (filter.type === undefined || flow.type === filter.type) &&
    (filter.queue === undefined || flow.queue === filter.queue) &&
    (filter.parentId === undefined || flow.parentId === filter.parentId) &&
    (filter.since === undefined || flow.createdAt >= filter.since) &&
    (filter.until === undefined || flow.createdAt <= filter.until)
  );
}
