/**
 * Helpers every store shares for listing: cursors, page sizes, status filters.
 *
 * @module
 */
import { ErrorCode, InvalidArgumentError } from '../errors.js';
import type { FlowStatus } from './records.js';

/** Default page size of `listFlows`. */
export const DEFAULT_PAGE_SIZE = 50;
/** Largest page size of `listFlows`. */
export const MAX_PAGE_SIZE = 1000;

/** The page size to use for a requested limit. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`list limit must be a whole number ≥ 1 (got ${limit})`);
  }
  return Math.min(limit, MAX_PAGE_SIZE);
}

/** The statuses to match, or undefined for all. */
export function statusFilter(status: FlowStatus | readonly FlowStatus[] | undefined): readonly FlowStatus[] | undefined {
  if (status === undefined) return undefined;
  return typeof status === 'string' ? [status] : status;
}

/** An opaque cursor for "after this flow" in newest-first order. */
export function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

/** Reads a cursor made by {@link encodeCursor}. @throws InvalidArgumentError for anything else. */
export function decodeCursor(cursor: string | undefined): { createdAt: number; id: string } | undefined {
  if (cursor === undefined) return undefined;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown];
    if (typeof createdAt === 'number' && typeof id === 'string') return { createdAt, id };
  } catch {
    // fall through to the error below
  }
  throw new InvalidArgumentError(`invalid list cursor ${JSON.stringify(cursor)}: pass nextCursor from a previous page`, {
    code: ErrorCode.INVALID_ARGUMENT,
  });
}
