/**
 * SQL identifiers: schema and table names are validated once (never taken
 * from data), quoted where they are used, and the LISTEN channel of a queue
 * derived from them.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { ErrorCode, InvalidArgumentError } from '@ergon/core';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Returns `name` when it is a plain lower-case PostgreSQL identifier (letters,
 * digits, `_`, at most 63 characters, not starting with a digit).
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`) naming the option.
 */
export function validateIdentifier(name: unknown, option: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new InvalidArgumentError(
      `postgres connector: ${option} must be 1–63 characters from a–z 0–9 _, not starting with a digit (got ${JSON.stringify(name)})`,
      { code: ErrorCode.INVALID_ARGUMENT },
    );
  }
  return name;
}

/** `"schema"."table"` (both already validated). */
export function qualified(schema: string, table: string): string {
  return `"${schema}"."${table}"`;
}

/**
 * The NOTIFY channel of a queue table: short and the same in every process
 * (a channel name is an identifier of at most 63 bytes).
 */
export function channelOf(schema: string, table: string): string {
  return `ergon_q_${createHash('sha1').update(`${schema}.${table}`).digest('hex').slice(0, 24)}`;
}
