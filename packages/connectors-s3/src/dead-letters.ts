/**
 * Dead letters: an object (or one line of a JSON-lines object) refused, kept
 * under the dead-letter prefix with its original metadata and why, as user
 * metadata of its own (`ergon-dead-letter-reason`, `-source`, `-at`).
 *
 * @module
 */
import { type DeadLetterReason, describeReason } from '@ergon/core';
import { DEAD_LETTER_PREFIX } from './internal/metadata.js';

/** Moved to `@ergon/core`; re-exported so this package's API stays the same. */
export { type DeadLetterReason, describeReason } from '@ergon/core';

/** A dead letter as read back. */
export interface S3DeadLetter {
  /** The dead letter's own key, under the dead-letter prefix. */
  readonly key: string;
  /** The transaction id it had (its source key, `#<line>` for a line), when it was a valid id. */
  readonly id?: string;
  /** The decoded payload, when it could be decoded. */
  readonly payload?: unknown;
  /** The original metadata. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Why it was dead-lettered. */
  readonly reason: DeadLetterReason;
  /** The key it came from (with `#<line>` for a line). */
  readonly source?: string;
  /** When it was dead-lettered (ISO time). */
  readonly at?: string;
}

/** The user metadata keys of a dead letter. */
export const DEAD_LETTER_METADATA = Object.freeze({
  /** Why it was dead-lettered (ASCII JSON of the error: name, message, code). */
  reason: `${DEAD_LETTER_PREFIX}reason`,
  /** The key the object had under the source prefix (URI-encoded). */
  source: `${DEAD_LETTER_PREFIX}source`,
  /** When it was dead-lettered (ISO 8601). */
  at: `${DEAD_LETTER_PREFIX}at`,
});

/** Most characters of a reason's message kept (S3 allows 2 KiB of user metadata in all). */
const MAX_MESSAGE = 900;

/** The metadata of a dead letter: the original's, plus why, from where and when (ASCII, within S3's size limit). */
export function deadLetterMetadata(
  original: Readonly<Record<string, string>>,
  reason: unknown,
  source: string,
): Record<string, string> {
  const described = describeReason(reason);
  const short =
    described.message.length > MAX_MESSAGE
      ? { ...described, message: `${described.message.slice(0, MAX_MESSAGE)}…` }
      : described;
  return {
    ...original,
    [DEAD_LETTER_METADATA.reason]: asciiJson(short),
    [DEAD_LETTER_METADATA.source]: encodeURIComponent(source),
    [DEAD_LETTER_METADATA.at]: new Date().toISOString(),
  };
}

/** The reason stored on a dead letter; never throws. */
export function parseReason(metadata: Readonly<Record<string, string>>): DeadLetterReason {
  const text = metadata[DEAD_LETTER_METADATA.reason];
  try {
    const parsed = JSON.parse(text ?? '') as DeadLetterReason;
    if (typeof parsed?.message === 'string') return parsed;
  } catch {
    // fall through: not ours
  }
  return { message: 'no reason recorded (not dead-lettered by Ergon)' };
}

/** JSON with every non-ASCII character escaped, so it fits an HTTP header. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
