/**
 * Options of the PostgreSQL service and of its queue connectors, validated
 * once and frozen.
 *
 * @module
 */
import { hostname } from 'node:os';
import {
  createConsoleLogger,
  type Duration,
  ErrorCode,
  InvalidArgumentError,
  type Logger,
  toMillis,
} from '@ergon/core';
import type { Pool } from 'pg';
import { channelOf, qualified, validateIdentifier } from './internal/identifiers.js';

/** Default server when neither `url` nor `pool` is given (DESIGN §8). */
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Default size limit of a payload (its JSON text): 1 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** Options of {@link PostgresService}. */
export interface PostgresServiceOptions {
  /** A connection URL (`postgres://user:password@host:5432/db`). Give either `url` or `pool`. Default {@link DEFAULT_POSTGRES_URL}. */
  readonly url?: string | undefined;
  /**
   * A pg `Pool` of your own (shared with your application, so the outbox can
   * write in your transactions). The service never ends it. Its
   * connections' `application_name` is yours to set.
   */
  readonly pool?: Pool | undefined;
  /** Name for logs and dependency injection. Default `postgres`. */
  readonly name?: string | undefined;
  /**
   * `application_name` of the connections the service opens (what
   * `pg_stat_activity` shows). Default `ergon-<host>-<pid>`.
   */
  readonly applicationName?: string | undefined;
  /** Most connections of the pool the service opens from `url`. Default 10. */
  readonly maxConnections?: number | undefined;
  /** Longest wait for a connection (pool or new) before a call fails with `CONNECTOR_ERROR`. Default `'10s'`. */
  readonly connectTimeout?: Duration | undefined;
  /** Where connection trouble is reported. Default: JSON lines on stderr, warn and above. */
  readonly logger?: Logger | undefined;
}

/** {@link PostgresServiceOptions} resolved. */
export interface ResolvedServiceOptions {
  /** {@link PostgresServiceOptions.url}, with its default applied. */
  readonly url: string;
  /** {@link PostgresServiceOptions.pool}, with its default applied. */
  readonly pool: Pool | undefined;
  /** {@link PostgresServiceOptions.name}, with its default applied. */
  readonly name: string;
  /** {@link PostgresServiceOptions.applicationName}, with its default applied. */
  readonly applicationName: string;
  /** {@link PostgresServiceOptions.maxConnections}, with its default applied. */
  readonly maxConnections: number;
  /** {@link PostgresServiceOptions.connectTimeout}, in ms, with its default applied. */
  readonly connectTimeoutMs: number;
  /** {@link PostgresServiceOptions.logger}, with its default applied. */
  readonly logger: Logger;
}

/** Options of a queue table connector, besides its service. */
export interface PostgresQueueOptions {
  /** The schema of the tables. Created when missing (with `createTables`). Default `public`. */
  readonly schema?: string | undefined;
  /** The queue table. Lower-case letters, digits and `_`. Default `ergon_queue` (`ergon_outbox` for an outbox). */
  readonly table?: string | undefined;
  /** Where refused rows go, with the reason. Default `<table>_dead_letter`. */
  readonly deadLetterTable?: string | undefined;
  /** Name for logs and dependency injection. Default `postgres:<schema>.<table>`. */
  readonly name?: string | undefined;
  /** Create the schema, tables and index when missing (on start, once). Default true. */
  readonly createTables?: boolean | undefined;
  /**
   * How long a fetched row stays invisible to other consumers. The holder
   * extends it every third of it while the transaction is held, so only a
   * dead (or stalled) holder's rows come back. Default `'30s'`.
   */
  readonly visibilityTimeout?: Duration | undefined;
  /** After this many deliveries a row goes to the dead-letter table instead of another. Default 5. */
  readonly maxAttempts?: number | undefined;
  /** Most fetched, unsettled transactions this connector holds; fetches wait for room. Default 256. */
  readonly maxInFlight?: number | undefined;
  /** Longest a fetch waits (for a NOTIFY, or a row becoming visible) before it resolves empty. Default `'1s'`. */
  readonly fetchWait?: Duration | undefined;
  /** Largest payload accepted, in bytes of its JSON text: larger rows are dead-lettered, larger dispatches refused. Default 1 MiB. */
  readonly maxPayloadBytes?: number | undefined;
  /** Dead-letter rows without an `id` instead of naming them `<schema>.<table>:<seq>`. Default false. */
  readonly requireId?: boolean | undefined;
}

/** {@link PostgresQueueOptions} resolved. */
export interface ResolvedQueueOptions {
  /** {@link PostgresQueueOptions.schema}, with its default applied. */
  readonly schema: string;
  /** {@link PostgresQueueOptions.table}, with its default applied. */
  readonly table: string;
  /** {@link PostgresQueueOptions.deadLetterTable}, with its default applied. */
  readonly deadLetterTable: string;
  /** `"schema"."table"`. */
  readonly queueSql: string;
  /** `"schema"."dead letter table"`. */
  readonly deadLetterSql: string;
  /** The NOTIFY channel of the queue. */
  readonly channel: string;
  /** {@link PostgresQueueOptions.name}, with its default applied. */
  readonly name: string;
  /** {@link PostgresQueueOptions.createTables}, with its default applied. */
  readonly createTables: boolean;
  /** {@link PostgresQueueOptions.visibilityTimeout}, in ms, with its default applied. */
  readonly visibilityMs: number;
  /** {@link PostgresQueueOptions.maxAttempts}, with its default applied. */
  readonly maxAttempts: number;
  /** {@link PostgresQueueOptions.maxInFlight}, with its default applied. */
  readonly maxInFlight: number;
  /** {@link PostgresQueueOptions.fetchWait}, in ms, with its default applied. */
  readonly fetchWaitMs: number;
  /** {@link PostgresQueueOptions.maxPayloadBytes}, with its default applied. */
  readonly maxPayloadBytes: number;
  /** {@link PostgresQueueOptions.requireId}, with its default applied. */
  readonly requireId: boolean;
}

function invalid(what: string, message: string): never {
  throw new InvalidArgumentError(`${what}: ${message}`, { code: ErrorCode.INVALID_ARGUMENT });
}

function text(what: string, option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > 1024)
    invalid(what, `${option} must be a non-empty string of at most 1024 characters`);
  return value as string;
}

function positiveInteger(what: string, option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    invalid(what, `${option} must be a whole number ≥ 1 (got ${String(value)})`);
  return value as number;
}

function flag(what: string, option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') invalid(what, `${option} must be true or false`);
  return value as boolean;
}

/**
 * Validates and resolves service options.
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`, `INVALID_DURATION`) naming the bad option.
 */
export function resolveServiceOptions(options: PostgresServiceOptions = {}): ResolvedServiceOptions {
  const what = 'postgres service';
  if (typeof options !== 'object' || options === null) invalid(what, 'options must be an object');
  if (options.pool !== undefined && options.url !== undefined)
    invalid(what, 'give either `pool` (a pg Pool) or `url`, not both');
  if (options.pool !== undefined && typeof (options.pool as Pool)?.connect !== 'function')
    invalid(what, '`pool` must be a pg Pool');
  const url = text(what, 'url', options.url) ?? DEFAULT_POSTGRES_URL;
  if (!/^postgres(ql)?:\/\//.test(url))
    invalid(what, `url must start with postgres:// (got a ${url.split(':')[0]} url)`);
  const applicationName =
    text(what, 'applicationName', options.applicationName) ??
    `ergon-${hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '_')
      .slice(0, 32)}-${process.pid}`;
  if (applicationName.length > 63) invalid(what, 'applicationName must be at most 63 characters');
  const connectTimeoutMs = toMillis(options.connectTimeout ?? '10s', 'connectTimeout');
  if (connectTimeoutMs < 10)
    invalid(what, `connectTimeout must be at least 10 ms (got ${connectTimeoutMs} ms)`);
  return Object.freeze({
    url,
    pool: options.pool,
    name: text(what, 'name', options.name) ?? 'postgres',
    applicationName,
    maxConnections: positiveInteger(what, 'maxConnections', options.maxConnections, 10),
    connectTimeoutMs,
    logger: options.logger ?? createConsoleLogger({ component: 'postgres' }, 'warn'),
  });
}

/**
 * Validates and resolves queue options.
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`, `INVALID_DURATION`) naming the bad option.
 */
export function resolveQueueOptions(
  options: PostgresQueueOptions,
  defaultTable: string,
): ResolvedQueueOptions {
  const what = 'postgres queue';
  if (typeof options !== 'object' || options === null) invalid(what, 'options must be an object');
  const schema = validateIdentifier(options.schema ?? 'public', 'schema');
  const table = validateIdentifier(options.table ?? defaultTable, 'table');
  const deadLetterTable = validateIdentifier(
    options.deadLetterTable ?? `${table}_dead_letter`,
    'deadLetterTable',
  );
  if (deadLetterTable === table) invalid(what, 'deadLetterTable must differ from table');
  const visibilityMs = toMillis(options.visibilityTimeout ?? '30s', 'visibilityTimeout');
  if (visibilityMs < 100) invalid(what, `visibilityTimeout must be at least 100 ms (got ${visibilityMs} ms)`);
  const fetchWaitMs = toMillis(options.fetchWait ?? '1s', 'fetchWait');
  return Object.freeze({
    schema,
    table,
    deadLetterTable,
    queueSql: qualified(schema, table),
    deadLetterSql: qualified(schema, deadLetterTable),
    channel: channelOf(schema, table),
    name: text(what, 'name', options.name) ?? `postgres:${schema}.${table}`,
    createTables: flag(what, 'createTables', options.createTables, true),
    visibilityMs,
    maxAttempts: positiveInteger(what, 'maxAttempts', options.maxAttempts, 5),
    maxInFlight: positiveInteger(what, 'maxInFlight', options.maxInFlight, 256),
    fetchWaitMs,
    maxPayloadBytes: positiveInteger(
      what,
      'maxPayloadBytes',
      options.maxPayloadBytes,
      DEFAULT_MAX_PAYLOAD_BYTES,
    ),
    requireId: flag(what, 'requireId', options.requireId, false),
  });
}
