/**
 * Dead letters: why a row was refused, as stored in the dead-letter table's
 * `reason` column, and a dead letter as read back.
 *
 * @module
 */

/** Why a row was dead-lettered. */
export interface DeadLetterReason {
  /** The Ergon error code, when the reason was an Ergon error (`CODEC_TOO_LARGE`, `NON_RETRYABLE`, ...). */
  readonly code?: string;
  /** The error's class name, when it was an error. */
  readonly name?: string;
  /** What went wrong. */
  readonly message: string;
}

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

/** A reason as stored: code, name and message of an error; any other value as text. */
export function describeReason(reason: unknown): DeadLetterReason {
  if (reason instanceof Error) {
    const code = (reason as { code?: unknown }).code;
    return { ...(typeof code === 'string' ? { code } : {}), name: reason.name, message: reason.message };
  }
  if (reason === undefined) return { message: 'nacked without requeue' };
  return { message: typeof reason === 'string' ? reason : (JSON.stringify(reason) ?? String(reason)) };
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
