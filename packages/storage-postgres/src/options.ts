/**
 * Options of the PostgreSQL store, validated once and frozen. The part of
 * `pg` the store relies on is declared structurally (as Kysely does), so a
 * pool from any copy of `pg` fits.
 *
 * @module
 */
import { createConsoleLogger, ErrorCode, InvalidArgumentError, type Logger } from '@ergon/core';

/** Default connection URL when neither `url` nor `pool` is given (DESIGN §8). */
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
/** Default schema holding the store's tables. */
export const DEFAULT_SCHEMA = 'ergon';
/** Default `application_name` of the connections the store opens. */
export const DEFAULT_APPLICATION_NAME = 'ergon';
/** Default size of the pool the store creates from `url`. */
export const DEFAULT_POOL_SIZE = 10;

/** What a query sends: pg's query config (named statements and per-query type parsers included). */
export interface PostgresQueryConfig {
  /** The SQL text, with `$1`, `$2`, … placeholders. */
  readonly text: string;
  /** The values of the placeholders, in order. */
  readonly values?: unknown[];
  /** A prepared statement's name: parsed once per connection. */
  readonly name?: string;
  /** Type parsers for this query's result columns, instead of pg's global ones. */
  readonly types?: {
    /** The parser of values of type `oid` (pg's `types.getTypeParser`). */
    getTypeParser(oid: number, format?: string): (value: string) => unknown;
  };
}

/** What a query answers. */
export interface PostgresResult<Row = Record<string, unknown>> {
  /** The rows returned. */
  readonly rows: Row[];
  /** Rows affected (or returned); null for commands that report none. */
  readonly rowCount: number | null;
}

/** A connection taken from the pool: the part of pg's `PoolClient` the store uses. */
export interface PostgresPoolClient {
  /** Runs one query on this connection. */
  query<Row = Record<string, unknown>>(config: PostgresQueryConfig): Promise<PostgresResult<Row>>;
  /** Runs one query given as text and values. */
  query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<PostgresResult<Row>>;
  /** Gives it back; with an error (or `true`) it is closed instead of reused. */
  release(destroy?: Error | boolean): void;
  /** Receives the NOTIFY messages of the channels this connection LISTENs to. */
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  /** Reports an error of the connection (it is then unusable). */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Reports that the connection closed. */
  on(event: 'end', listener: () => void): unknown;
  /** Removes an error listener. */
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
}

/** The part of a pg `Pool` the store uses. */
export interface PostgresPool {
  /** Runs one query on any connection of the pool. */
  query<Row = Record<string, unknown>>(config: PostgresQueryConfig): Promise<PostgresResult<Row>>;
  /** Takes a connection from the pool (the caller must `release` it). */
  connect(): Promise<PostgresPoolClient>;
  /** Closes every connection of the pool. */
  end(): Promise<void>;
  /** Reports an error of an idle connection. */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Reports each new connection the pool opens. */
  on(event: 'connect', listener: (client: PostgresPoolClient) => void): unknown;
  /** Removes an error listener. */
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  /** Removes a connect listener. */
  removeListener(event: 'connect', listener: (client: PostgresPoolClient) => void): unknown;
}

/** Options of {@link PostgresExecutionLog.open}. Give `url` or `pool`, not both. */
export interface PostgresExecutionLogOptions {
  /**
   * A `postgres://` URL; the store creates its own pool (and one more connection for LISTEN) and
   * closes them. Default `postgres://postgres@127.0.0.1:5432/test`.
   */
  readonly url?: string | undefined;
  /**
   * A pg `Pool` to run on instead of `url`. The store never ends it and keeps one of its connections
   * for LISTEN until `close()`. It adds an `error` listener to the pool and to each connection the
   * pool opens from then on, so a connection the server ends cannot crash the process.
   */
  readonly pool?: PostgresPool | undefined;
  /**
   * The schema holding the store's tables, created when missing: a plain lower-case identifier
   * (`a–z 0–9 _`, at most 63 characters, not starting with a digit). Default `ergon`.
   * Stores in different schemas of one database are independent.
   */
  readonly schema?: string | undefined;
  /** Size of the pool created from `url`. Default 10. */
  readonly poolSize?: number | undefined;
  /**
   * `application_name` of the connections created from `url` (shown in `pg_stat_activity`).
   * Default `ergon`.
   */
  readonly applicationName?: string | undefined;
  /** Where connection trouble is reported. Default: JSON lines on stderr, warn and above. */
  readonly logger?: Logger | undefined;
}

/** Options after validation, with defaults applied (internal). */
export interface ResolvedOptions {
  readonly url: string | undefined;
  readonly pool: PostgresPool | undefined;
  readonly schema: string;
  readonly poolSize: number;
  readonly applicationName: string;
  readonly logger: Logger;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function invalid(message: string, option: string): InvalidArgumentError {
  return new InvalidArgumentError(`PostgresExecutionLog: ${message}`, {
    code: ErrorCode.INVALID_ARGUMENT,
    details: { option },
  });
}

/**
 * Returns `schema` when it is a plain lower-case identifier, safe to quote into SQL.
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`) otherwise.
 */
export function validateSchema(schema: unknown): string {
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema) || schema.startsWith('pg_')) {
    throw invalid(
      `schema must be 1–63 characters from a–z 0–9 _, not starting with a digit or pg_ (got ${JSON.stringify(schema)})`,
      'schema',
    );
  }
  return schema;
}

/** Validates options and applies defaults. @throws InvalidArgumentError naming the bad option. */
export function resolveOptions(options: PostgresExecutionLogOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid('options must be an object: { url } or { pool }', 'options');
  }
  const { pool } = options;
  if (pool !== undefined && options.url !== undefined)
    throw invalid('give `url` or `pool`, not both', 'pool');
  if (pool !== undefined && (typeof pool?.connect !== 'function' || typeof pool.query !== 'function')) {
    throw invalid('`pool` must be a pg Pool', 'pool');
  }
  const url = pool === undefined ? (options.url ?? DEFAULT_POSTGRES_URL) : undefined;
  if (url !== undefined && (typeof url !== 'string' || !/^postgres(ql)?:\/\//i.test(url))) {
    throw invalid(`url must be a postgres:// or postgresql:// URL (got ${JSON.stringify(url)})`, 'url');
  }
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) {
    throw invalid(`poolSize must be a whole number from 1 to 1000 (got ${String(poolSize)})`, 'poolSize');
  }
  const applicationName = options.applicationName ?? DEFAULT_APPLICATION_NAME;
  if (
    typeof applicationName !== 'string' ||
    applicationName.length > 63 ||
    /[^\x20-\x7e]/.test(applicationName)
  ) {
    throw invalid('applicationName must be at most 63 printable ASCII characters', 'applicationName');
  }
  return Object.freeze({
    url,
    pool,
    schema: validateSchema(options.schema ?? DEFAULT_SCHEMA),
    poolSize,
    applicationName,
    logger: options.logger ?? createConsoleLogger({ component: '@ergon/storage-postgres' }, 'warn'),
  });
}
