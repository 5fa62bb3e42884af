/**
 * Dead letters: why a row was refused, as stored in the dead-letter table's
 * `reason` column, and a dead letter as read back.
 *
 * @module
 */
import type { DeadLetterReason } from '@ergon/core';

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
