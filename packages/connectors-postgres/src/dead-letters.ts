/**
 * Dead letters: why a row was refused, as stored in the dead-letter table's
 * `reason` column, and a dead letter as read back.
 *
 * @module
 */
import type { DeadLetterReason } from '@ergon/core';
import type { ResolvedQueueOptions } from './options.js';
import type { PostgresService } from './service.js';

/** Moved to `@ergon/core`; re-exported so this package's API stays the same. */
export { type DeadLetterReason, describeReason } from '@ergon/core';

/** A row of the dead-letter table. */
export interface PostgresDeadLetter {
  /** The dead-letter row's own sequence number. */
  readonly seq: string;
  /** The row's `id` column (the transaction id), when it had one. */
  readonly id?: string;
  /** The payload. */
  readonly payload?: unknown;
  /** The original metadata. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Why it was dead-lettered. */
  readonly reason: DeadLetterReason;
  /** How often it had been delivered. */
  readonly attempts: number;
  /** Its `seq` in the queue table. */
  readonly sourceSeq?: string;
  /** When it was dead-lettered. */
  readonly at: Date;
}

/** A stored reason read back; never throws. */
export function parseReason(value: unknown): DeadLetterReason {
  const reason = value as Partial<DeadLetterReason> | null;
  if (typeof reason?.message === 'string') {
    return {
      ...(typeof reason.code === 'string' ? { code: reason.code } : {}),
      ...(typeof reason.name === 'string' ? { name: reason.name } : {}),
      message: reason.message,
    };
  }
  return { message: `unreadable reason: ${JSON.stringify(value)}` };
}

/**
 * The dead-letter table's rows, oldest first, without removing them.
 * `after`: only those after this dead-letter `seq` (paging).
 *
 * @throws ErgonError `CONNECTOR_ERROR` when PostgreSQL fails.
 */
export async function readDeadLetterRows(
  service: PostgresService,
  options: ResolvedQueueOptions,
  page: { count?: number; after?: string },
): Promise<PostgresDeadLetter[]> {
  const { deadLetterSql } = options;
  const result = await service.query<{
    seq: string;
    id: string | null;
    payload: unknown;
    metadata: Record<string, unknown> | null;
    attempts: number;
    reason: unknown;
    source_seq: string | null;
    dead_at: Date;
  }>(
    `SELECT seq::text AS seq, id, payload, metadata, attempts, reason, source_seq::text AS source_seq, dead_at
       FROM ${deadLetterSql} WHERE seq > $1::bigint ORDER BY seq LIMIT $2`,
    [page.after ?? '0', page.count ?? 100],
    { action: 'read dead letters of', table: deadLetterSql, idempotent: true },
  );
  return result.rows.map((row) => ({
    seq: row.seq,
    ...(row.id === null ? {} : { id: row.id }),
    ...(row.payload === null ? {} : { payload: row.payload }),
    metadata: Object.fromEntries(
      Object.entries(row.metadata ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    ),
    reason: parseReason(row.reason),
    attempts: row.attempts,
    ...(row.source_seq === null ? {} : { sourceSeq: row.source_seq }),
    at: row.dead_at,
  }));
}
