/**
 * Transaction metadata and S3 user metadata (`x-amz-meta-*`): each key a
 * header of its own, so `traceparent` travels as one and other tools read
 * it. S3 lower-cases the keys and takes printable ASCII values only, so
 * dispatch refuses what would not come back unchanged.
 *
 * @module
 */
import { ErrorCode, InvalidArgumentError } from '@ergon/core';

/** Metadata keys the connector adds to fetched transactions (and leaves out of dispatched objects). */
export const S3_METADATA = Object.freeze({
  /** The bucket the transaction was read from. */
  bucket: 's3.bucket',
  /** The object's key. */
  key: 's3.key',
  /** The line number within a JSON-lines object (1 for the first line). */
  line: 's3.line',
});

const OWN_PREFIX = 's3.';
/** Keys the connector writes on dead letters; never taken for transaction metadata. */
export const DEAD_LETTER_PREFIX = 'ergon-dead-letter-';
const KEY = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const VALUE = /^[\x20-\x7e]*$/;

/**
 * The user metadata of a dispatched object.
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`) for a key S3 would change or a value it cannot carry.
 */
export function toUserMetadata(
  metadata: Readonly<Record<string, string>>,
  id: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (key.startsWith(OWN_PREFIX)) continue;
    if (!KEY.test(key) || key.startsWith(DEAD_LETTER_PREFIX))
      throw new InvalidArgumentError(
        `metadata key ${JSON.stringify(key)} of transaction ${id} cannot travel as S3 metadata: ` +
          'use lower-case letters, digits, . _ - (S3 lower-cases header names)',
        { code: ErrorCode.INVALID_ARGUMENT },
      );
    if (!VALUE.test(value))
      throw new InvalidArgumentError(
        `metadata ${key} of transaction ${id} is not printable ASCII, which S3 metadata cannot carry: encode it (e.g. encodeURIComponent)`,
        { code: ErrorCode.INVALID_ARGUMENT },
      );
    out[key] = value;
  }
  return out;
}

/** The transaction metadata of a read object: its user metadata, without dead-letter keys. */
export function fromUserMetadata(metadata: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (!key.startsWith(DEAD_LETTER_PREFIX) && !key.startsWith(OWN_PREFIX)) out[key] = value;
  }
  return out;
}
