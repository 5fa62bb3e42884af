/**
 * Identifier validation shared by flows, transactions and stores.
 *
 * @module
 */
import { ErrorCode, InvalidArgumentError } from './errors.js';

/** Longest accepted id, in characters. */
export const MAX_ID_LENGTH = 512;

// Printable ASCII without spaces, quotes or backslashes: safe in SQL
// parameters, Redis keys, URLs, file names of logs and shell arguments.
const ID_PATTERN = /^[A-Za-z0-9_.:@/+=#~-]+$/;

/**
 * The id {@link validateId} accepted last (validity depends on the text alone). Always a valid
 * id, never undefined: an argument equal to it is valid.
 */
let lastValid = 'id';

/**
 * Checks an id (flow id, transaction id). Returns it unchanged.
 *
 * @throws InvalidArgumentError with code `INVALID_ID` when it is empty, too long or has other characters.
 */
export function validateId(id: unknown, what = 'id'): string {
  // A run checks its flow's id on every write: the id accepted last is not matched again.
  if (id === lastValid) return lastValid;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || !ID_PATTERN.test(id)) {
    const shown =
      typeof id === 'string' ? JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id) : typeof id;
    throw new InvalidArgumentError(
      `${what} ${shown} is not valid: use 1–${MAX_ID_LENGTH} characters from A–Z a–z 0–9 and _ . : @ / + = # ~ -`,
      { code: ErrorCode.INVALID_ID, details: { what } },
    );
  }
  lastValid = id;
  return id;
}

/** True when {@link validateId} would accept `id`. */
export function isValidId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH && ID_PATTERN.test(id);
}
