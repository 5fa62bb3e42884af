/**
 * `--store`: which store a command talks to, and opening it. SQLite files
 * are never created by commands that only look at or act on existing flows;
 * an unreachable Redis or PostgreSQL fails within a few seconds.
 *
 * @module
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode, hasErrorCode, type Logger, type RuntimeExecutionLog, runtimeStore } from '@ergon/core';
import { CliError, usageError } from './errors.js';

/** The store when neither `--store` nor `ERGON_STORE` says otherwise. */
export const DEFAULT_STORE = 'sqlite:./ergon.db';

/** A parsed `--store` value. */
export type StoreSpec =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'redis'; readonly url: string }
  /** `schema`: from the URL's `?schema=` (removed from `url`); the store's default otherwise. */
  | { readonly kind: 'postgres'; readonly url: string; readonly schema?: string | undefined };

/**
 * Parses `sqlite:PATH` (also `sqlite://PATH`, `sqlite:///abs/path`), a
 * `redis://` or `rediss://` URL, a `postgres://` or `postgresql://` URL (with
 * `?schema=NAME` to pick the schema), or a bare file path (SQLite).
 *
 * @throws CliError (usage) for an empty value or an in-memory SQLite database.
 */
export function parseStoreSpec(text: string): StoreSpec {
  const value = text.trim();
  if (value === '')
    throw usageError(
      '--store is empty: use sqlite:./file.db, redis://host:port[/db] or postgres://user@host:port/db',
    );
  if (/^rediss?:\/\//i.test(value)) return { kind: 'redis', url: value };
  if (/^postgres(ql)?:\/\//i.test(value)) return parsePostgres(value);
  const path = value.replace(/^sqlite:(\/\/)?/i, '');
  if (path === '') throw usageError(`--store ${JSON.stringify(text)} names no file: use sqlite:./file.db`);
  if (path === ':memory:') {
    throw usageError(
      '--store sqlite::memory: would be private to this one command: use a file, e.g. sqlite:./ergon.db',
    );
  }
  return { kind: 'sqlite', path };
}

/** A PostgreSQL URL; its `schema` parameter is the store's, not the driver's. */
function parsePostgres(value: string): StoreSpec {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`--store ${JSON.stringify(redactUrl(value))} is not a valid postgres:// URL`);
  }
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  return { kind: 'postgres', url: url.toString(), ...(schema === undefined ? {} : { schema }) };
}

/** How a command uses the store. */
export type StoreAccess =
  /** Look only: an existing SQLite file, opened read-only. */
  | 'read'
  /** Act on existing flows: an existing SQLite file, read-write. */
  | 'existing'
  /** Create flows: the SQLite file is created when missing. */
  | 'create';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  readonly spec: StoreSpec;
  readonly access: StoreAccess;
  /** Redis key prefix. */
  readonly prefix?: string | undefined;
  /** Bound on each Redis call, connecting included. */
  readonly redisTimeoutMs: number;
  /** Where the store reports warnings. */
  readonly logger: Logger;
  /** True when the spec is the default (not given): the error then says how to give one. */
  readonly isDefault: boolean;
}

/**
 * Opens the store, in the runtime wrapper every engine part uses. For `read` and `existing` access a missing SQLite file is
 * an error and is not created.
 *
 * @throws CliError `no Ergon database at PATH`; the store's own errors
 *   (`STORE_FOREIGN`, `STORE_UNAVAILABLE`, …) otherwise.
 */
export async function openStore(options: OpenStoreOptions): Promise<RuntimeExecutionLog> {
  const { spec } = options;
  if (spec.kind === 'redis') {
    // Each store (and its driver) is loaded only when used: quicker start-up.
    const { RedisExecutionLog } = await import('@ergon/storage-redis');
    try {
      const store = await RedisExecutionLog.open({
        url: spec.url,
        prefix: options.prefix,
        commandTimeoutMs: options.redisTimeoutMs,
        logger: options.logger,
      });
      return runtimeStore(store, { logger: options.logger });
    } catch (error) {
      if (!hasErrorCode(error, ErrorCode.STORE_UNAVAILABLE)) throw error;
      throw new CliError(`cannot reach Redis at ${redactUrl(spec.url)}: ${error.message} [${error.code}]`, {
        cause: error,
      });
    }
  }
  if (options.prefix !== undefined) throw usageError('--prefix applies to Redis stores only');
  if (spec.kind === 'postgres') return openPostgres(spec, options);
  const path = resolve(spec.path);
  if (options.access !== 'create') {
    const hint = options.isDefault ? ' (choose one with --store sqlite:PATH or ERGON_STORE)' : '';
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) throw new CliError(`no Ergon database at ${spec.path}${hint}`);
    if (!stat.isFile()) throw new CliError(`no Ergon database at ${spec.path}: it is not a file`);
    if (stat.size === 0) throw new CliError(`no Ergon database at ${spec.path}: the file is empty`);
  }
  const { SqliteExecutionLog } = await import('@ergon/storage-sqlite');
  const store = await SqliteExecutionLog.open({ path, readonly: options.access === 'read' });
  return runtimeStore(store, { logger: options.logger });
}

/** Opens a PostgreSQL store (its schema created or migrated when needed). */
async function openPostgres(
  spec: Extract<StoreSpec, { kind: 'postgres' }>,
  options: OpenStoreOptions,
): Promise<RuntimeExecutionLog> {
  const { PostgresExecutionLog } = await import('@ergon/storage-postgres');
  try {
    const store = await PostgresExecutionLog.open({
      url: connectTimeout(spec.url, options.redisTimeoutMs),
      schema: spec.schema,
      applicationName: 'ergon-cli',
      logger: options.logger,
    });
    return runtimeStore(store, { logger: options.logger });
  } catch (error) {
    if (!hasErrorCode(error, ErrorCode.STORE_UNAVAILABLE)) throw error;
    throw new CliError(
      `cannot reach PostgreSQL at ${redactUrl(spec.url)}: ${error.message} [${error.code}]`,
      {
        cause: error,
      },
    );
  }
}

/** The URL with a connect timeout (in whole seconds, as libpq takes it) unless it names one. */
function connectTimeout(url: string, timeoutMs: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('connect_timeout')) {
    parsed.searchParams.set('connect_timeout', String(Math.max(1, Math.ceil(timeoutMs / 1000))));
  }
  return parsed.toString();
}

/** A short description of the store for messages (`sqlite ./ergon.db`, `redis redis://…`). */
export function describeStore(spec: StoreSpec): string {
  if (spec.kind === 'sqlite') return `sqlite ${spec.path}`;
  if (spec.kind === 'redis') return `redis ${redactUrl(spec.url)}`;
  return `postgres ${redactUrl(spec.url)}${spec.schema === undefined ? '' : ` (schema ${spec.schema})`}`;
}

/** The URL without its password. */
export function redactUrl(url: string): string {
  return url.replace(/^((?:rediss?|postgres(?:ql)?):\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}
