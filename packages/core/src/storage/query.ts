/**
 * Listing flows ({@link ExecutionLog.listFlows}): the public query, the query
 * a store receives once the runtime wrapper normalised it, the page it
 * returns, and the cursor format every store shares.
 *
 * @module
 */
import { ErrorCode, InvalidArgumentError } from '../errors.js';
import type { StoreCallOptions } from './call-options.js';
import type { ExecutionLog } from './execution-log.js';
import type { FlowRecord, FlowStatus } from './records.js';
import { checkId, checkName, checkStatus, checkTime } from './runtime/validate.js';

/** Filters of {@link ExecutionLog.listFlows}. */
export interface FlowQuery extends StoreCallOptions {
  /** One status or several (each one of {@link FlowStatus}). */
  readonly status?: FlowStatus | readonly FlowStatus[] | undefined;
  /** Only flows of this type. */
  readonly type?: string | undefined;
  /** Only flows in this queue. */
  readonly queue?: string | undefined;
  /** Only the children of this flow. */
  readonly parentId?: string | undefined;
  /** Created at or after (ms). */
  readonly since?: number | undefined;
  /** Page size; default 50, at most 1000. */
  readonly limit?: number | undefined;
  /** Opaque cursor from the previous page. */
  readonly cursor?: string | undefined;
}

/**
 * A {@link FlowQuery} after the runtime wrapper normalised it: what a store's
 * `listFlows` receives. Statuses are a list, the limit is set and the cursor decoded.
 */
export interface NormalizedFlowQuery extends StoreCallOptions {
  /** Only flows in one of these statuses. */
  readonly statuses?: readonly FlowStatus[] | undefined;
  /** Only flows of this type. */
  readonly type?: string | undefined;
  /** Only flows in this queue. */
  readonly queue?: string | undefined;
  /** Only the children of this flow. */
  readonly parentId?: string | undefined;
  /** Only flows created at or after this time (ms). */
  readonly since?: number | undefined;
  /** 1 to 1000. */
  readonly limit: number;
  /** Flows strictly after this one in newest-first order. */
  readonly after?:
    | {
        /** The `createdAt` of the last flow of the previous page. */
        readonly createdAt: number;
        /** Its id (breaks ties of `createdAt`). */
        readonly id: string;
      }
    | undefined;
}

/** A page of flows, newest first. */
export interface FlowPage {
  /** The flows of this page, newest first. */
  readonly flows: readonly FlowRecord[];
  /** Pass as `cursor` for the next page; undefined on the last page. */
  readonly nextCursor?: string | undefined;
}

/** Default page size of `listFlows`. */
export const DEFAULT_PAGE_SIZE = 50;
/** Largest page size of `listFlows`. */
export const MAX_PAGE_SIZE = 1000;

/** The page size to use for a requested limit. @throws InvalidArgumentError below 1 or not whole. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`list limit must be a whole number ≥ 1 (got ${String(limit)})`);
  }
  return Math.min(limit, MAX_PAGE_SIZE);
}

/**
 * Validates a {@link FlowQuery} and turns it into what a store's `listFlows`
 * receives. @throws InvalidArgumentError naming the bad filter (an unknown
 * status, a non-finite `since`, a limit below 1, a cursor not made by a store).
 */
export function normalizeQuery(query: FlowQuery): NormalizedFlowQuery {
  if (typeof query !== 'object' || query === null)
    throw new InvalidArgumentError('list needs a query object');
  let statuses: readonly FlowStatus[] | undefined;
  if (query.status !== undefined) {
    const list = typeof query.status === 'string' ? [query.status] : query.status;
    if (!Array.isArray(list) || list.length === 0) {
      throw new InvalidArgumentError('status filter must be a status or a non-empty array of statuses');
    }
    statuses = list.map((s) => checkStatus(s, 'status filter'));
  }
  if (query.type !== undefined) checkName(query.type, 'type filter');
  if (query.queue !== undefined) checkName(query.queue, 'queue filter');
  if (query.parentId !== undefined) checkId(query.parentId, 'parent id filter');
  if (query.since !== undefined) checkTime(query.since, 'since');
  return {
    statuses,
    type: query.type,
    queue: query.queue,
    parentId: query.parentId,
    since: query.since,
    limit: pageLimit(query.limit),
    after: decodeCursor(query.cursor),
    signal: query.signal,
  };
}

/** An opaque cursor for "after this flow" in newest-first order. */
export function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

/** Reads a cursor made by {@link encodeCursor}. @throws InvalidArgumentError for anything else. */
export function decodeCursor(cursor: string | undefined):
  | {
      /** The `createdAt` of the last flow of the previous page. */
      createdAt: number;
      /** Its id. */
      id: string;
    }
  | undefined {
  if (cursor === undefined) return undefined;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(String(cursor), 'base64url').toString()) as [
      unknown,
      unknown,
    ];
    if (typeof createdAt === 'number' && Number.isFinite(createdAt) && typeof id === 'string')
      return { createdAt, id };
  } catch {
    // fall through to the error below
  }
  throw new InvalidArgumentError(
    `invalid list cursor ${JSON.stringify(cursor)}: pass nextCursor from a previous page`,
    {
      code: ErrorCode.INVALID_ARGUMENT,
    },
  );
}
