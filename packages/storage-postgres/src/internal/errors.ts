/**
 * The one place where pg's failures (socket errors, SQLSTATE codes) become
 * Ergon errors, and where it is decided which failures are worth another try.
 *
 * @module
 */
import {
  ErgonError,
  type ErgonErrorOptions,
  ErrorCode,
  InvalidArgumentError,
  isErgonError,
  StoreUnavailableError,
} from '@ergon/core';

/** The SQLSTATE or socket code of a pg failure. */
export function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Socket codes and SQLSTATEs that mean the connection failed, was refused or was ended. */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown: pg_terminate_backend, a server shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);
const CONNECTION_TEXT =
  /Connection terminated|connection (?:is )?closed|Client was closed|Client has encountered a connection error|timeout exceeded when trying to connect|Cannot use a pool after calling end/i;

/** True when the connection itself failed (lost, refused, ended by the server). */
export function isConnectionError(error: unknown): boolean {
  const code = pgCode(error);
  if (code !== undefined && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return error instanceof Error && !isErgonError(error) && CONNECTION_TEXT.test(error.message);
}

/** True when the server rolled the transaction back for a conflict: the whole transaction may run again. */
export function isConflict(error: unknown): boolean {
  const code = pgCode(error);
  return code === '40001' || code === '40P01'; // serialization_failure, deadlock_detected
}

/** A store error no retry can fix (foreign schema, newer schema, corruption). */
export function permanentError(
  code: ErrorCode,
  message: string,
  options: ErgonErrorOptions = {},
): ErgonError {
  return new ErgonError(code, message, options);
}

/** Hints by SQLSTATE class or code, for messages that say what to do. */
const HINTS: Readonly<Record<string, string>> = {
  '28': 'the server refused the login: check the user, the password and pg_hba.conf',
  '3D000': 'the database does not exist: create it or fix the url',
  '3F000': "the store's schema is gone (dropped while in use?): reopen the store to recreate it",
  '42P01': "a table of the store's schema is gone (dropped while in use?): reopen the store to recreate it",
  '42501': 'the user lacks a privilege on the schema: GRANT it, or use another user',
  '53': 'the server is out of a resource (connections, memory, disk): lower poolSize or free the resource',
  '57014': 'the statement was cancelled (statement_timeout or a cancel request)',
  '40': 'the transaction kept conflicting with others; it was retried and gave up',
};

function hint(code: string | undefined): string {
  if (code === undefined) return '';
  const text = HINTS[code] ?? HINTS[code.slice(0, 2)];
  return text ? ` (${text})` : '';
}

/**
 * Maps anything the driver throws to an Ergon error; Ergon errors pass through
 * unchanged. `action` names what was being done, for the message.
 */
export function toErgonError(error: unknown, action: string): ErgonError {
  if (isErgonError(error)) return error;
  const code = pgCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const details = { store: 'postgres', ...(code === undefined ? {} : { sqlstate: code }) };
  if (isConnectionError(error)) {
    return new StoreUnavailableError(
      'postgres',
      `${action}: the connection failed or was lost (${message}); the next call opens a new one`,
      error,
    );
  }
  if (code === undefined) {
    return new ErgonError(ErrorCode.INTERNAL, `postgres store: ${action}: ${message}`, {
      cause: error,
      details,
    });
  }
  // Corrupt pages or indexes, reported by the server.
  if (code === 'XX001' || code === 'XX002') {
    return permanentError(
      ErrorCode.STORE_CORRUPT,
      `postgres store: ${action}: the server reports corrupt data (${message}); restore from a backup or REINDEX`,
      { cause: error, details },
    );
  }
  // Values the server cannot store (a NUL character in text, a number out of range).
  if (code.startsWith('22') || code.startsWith('23')) {
    return new InvalidArgumentError(`postgres store refused a value: ${action}: ${message} (${code})`, {
      cause: error,
      details,
    });
  }
  const transient =
    code.startsWith('40') ||
    code.startsWith('53') ||
    code.startsWith('57') ||
    code.startsWith('28') ||
    code === '3D000' ||
    code === '3F000' ||
    code === '42P01' ||
    code === '42501' ||
    code === '55P03'; // lock_not_available
  if (transient) {
    return new StoreUnavailableError('postgres', `${action}: ${message} (${code})${hint(code)}`, error);
  }
  return new ErgonError(ErrorCode.INTERNAL, `postgres store: ${action}: ${message} (${code})`, {
    cause: error,
    details,
  });
}
