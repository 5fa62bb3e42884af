/**
 * The one place where better-sqlite3 and SQLite errors become Ergon errors.
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

/**
 * A store error no retry can fix (foreign file, newer schema, corruption): its
 * code is one of core's `NON_RETRYABLE_CODES`, which is what makes it final.
 */
export function permanentError(
  code: ErrorCode,
  message: string,
  options: ErgonErrorOptions = {},
): ErgonError {
  return new ErgonError(code, message, options);
}

/** The SQLite result code of a driver error (`SQLITE_BUSY_SNAPSHOT`, ...), or undefined. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** True when the error means "another connection holds the lock": worth retrying soon. */
export function isBusyError(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** True when a write failed for lack of space on the volume (`SQLITE_FULL`). */
export function isFullError(error: unknown): boolean {
  return sqliteCode(error) === 'SQLITE_FULL';
}

/**
 * Maps anything the driver throws to an Ergon error. Ergon errors pass through
 * unchanged; `where` names the file in messages.
 */
export function toErgonError(error: unknown, where: string): ErgonError {
  if (isErgonError(error)) return error;
  const code = sqliteCode(error);
  const details = { store: 'sqlite', file: where, sqliteCode: code };
  if (code === undefined) {
    if (error instanceof TypeError && /not open/i.test(error.message)) {
      return new StoreUnavailableError('sqlite', `the database connection to ${where} is closed`, error);
    }
    const message = error instanceof Error ? error.message : String(error);
    return new ErgonError(ErrorCode.INTERNAL, `sqlite store (${where}): ${message}`, {
      cause: error,
      details,
    });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreUnavailableError(
      'sqlite',
      `${where} stayed locked by another connection past the busy timeout (${code}); retry, or raise busyTimeoutMs`,
      error,
    );
  }
  if (code === 'SQLITE_NOTADB') {
    return permanentError(
      ErrorCode.STORE_FOREIGN,
      `${where} is not a SQLite database (${code}): point the store at a new file or an existing Ergon store`,
      { cause: error, details },
    );
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return permanentError(
      ErrorCode.STORE_CORRUPT,
      `${where} is corrupt (${code}): restore it from a backup, or run "PRAGMA integrity_check" to inspect it`,
      { cause: error, details },
    );
  }
  if (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG') {
    return new InvalidArgumentError(
      `sqlite store (${where}) refused a value (${code}): ${messageOf(error)}`,
      {
        cause: error,
        details,
      },
    );
  }
  if (code === 'SQLITE_FULL') {
    return new StoreUnavailableError(
      'sqlite',
      `${where}: the disk is full (${code}); free space on its volume: the store checkpoints its WAL and resumes by itself`,
      error,
    );
  }
  // I/O errors, read-only files, permissions: the store cannot do its work now.
  return new StoreUnavailableError('sqlite', `${where}: ${messageOf(error)} (${code})`, error);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
