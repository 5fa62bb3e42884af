/**
 * The one place where pg's failures (socket errors, SQLSTATE codes) become
 * Ergon errors with a message saying what to do.
 *
 * @module
 */
import { ErgonError, ErrorCode, isErgonError } from '@ergon/core';

/** Hints by SQLSTATE (or by its class, the first two characters) and by socket error code. */
const HINTS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'nothing listens there: is PostgreSQL running, and is the url right?',
  ENOTFOUND: 'the host name does not resolve: check the url',
  ETIMEDOUT: 'the server did not answer in time: check the network and the url',
  ECONNRESET: 'the connection was reset; the next call opens a new one',
  '08': 'the connection failed or was lost; the next call opens a new one',
  '57P01':
    'the server or an operator ended the connection (pg_terminate_backend, a shutdown); the next call opens a new one',
  '57P02': 'the server is restarting after a crash; retry shortly',
  '57P03': 'the server is starting up or shutting down; retry shortly',
  '57014': 'the statement was cancelled (statement_timeout or a cancel request)',
  '28P01': 'password authentication failed: check the user and the password in the url',
  '28000': 'the server refused the login: check pg_hba.conf and the user in the url',
  '3D000': 'the database does not exist: create it or fix the url',
  '3F000': 'the schema does not exist: let the connector create its tables (createTables: true) or create it',
  '42P01': 'the table does not exist: let the connector create it (createTables: true) or create it',
  '42501': 'the user lacks a privilege on the schema or table: GRANT it, or use another user',
  '53300': 'the server has too many connections: lower the pool size (max) or raise max_connections',
  '53100': 'the server is out of disk space',
  '23514': 'a row broke a CHECK constraint of the table',
  '22P02': 'a value has the wrong form for its column',
  '54000': 'a value is over a limit of the server (e.g. a jsonb too large)',
};

/** SQLSTATE classes and socket codes that mean the connection itself failed. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  '57P01',
  '57P02',
  '57P03',
]);
const CONNECTION_TEXT =
  /Connection terminated|connection (?:is )?closed|Client was closed|Client has encountered a connection error|timeout exceeded when trying to connect/i;

/** The SQLSTATE or socket code of a pg failure. */
export function pgErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when the failure is the connection's (lost, refused, terminated), so the same call on a new connection may succeed. */
export function isConnectionError(error: unknown): boolean {
  const code = pgErrorCode(error);
  if (code !== undefined && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return error instanceof Error && CONNECTION_TEXT.test(error.message);
}

/** Where an error happened, for its message. */
export interface ErrorContext {
  /** What was being done: `claim rows of`, `insert into`. */
  readonly action: string;
  /** The table, `"schema"."table"`. */
  readonly table?: string | undefined;
}

/**
 * Turns a pg failure into a `CONNECTOR_ERROR` naming the action and the
 * table, with a hint by SQLSTATE; the original stays as `cause`. Ergon
 * errors pass through unchanged.
 */
export function toConnectorError(error: unknown, context: ErrorContext): ErgonError {
  if (isErgonError(error)) return error;
  const code = pgErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const hint =
    (code === undefined ? undefined : (HINTS[code] ?? HINTS[code.slice(0, 2)])) ??
    (isConnectionError(error) ? 'the connection was lost; the next call opens a new one' : undefined);
  const where = context.table === undefined ? '' : ` ${context.table}`;
  return new ErgonError(
    ErrorCode.CONNECTOR_ERROR,
    `postgres: could not ${context.action}${where}: ${message}${hint ? ` (${hint})` : ''}`,
    {
      cause: error,
      details: {
        connector: 'postgres',
        ...(context.table === undefined ? {} : { table: context.table }),
        ...(code === undefined ? {} : { sqlstate: code }),
      },
    },
  );
}

/** A URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable url>';
  }
}
