/**
 * The protocol side of the PostgreSQL connectors (DESIGN §3): a pg pool for
 * statements (your own, or one opened from a URL), and one LISTEN connection
 * for the wake-ups of every queue of this service. Knows nothing of
 * transactions; the connectors do.
 *
 * @module
 */
import type { HealthStatus, Service } from '@ergon/core';
import pg from 'pg';
import { isConnectionError, redactUrl, toConnectorError } from './internal/errors.js';
import { Listener } from './internal/listener.js';
import {
  type PostgresServiceOptions,
  type ResolvedServiceOptions,
  resolveServiceOptions,
} from './options.js';

/** What a statement is for, in error messages, and whether it may be sent again on a new connection. */
export interface QueryContext {
  /** What is done: `claim rows of`. */
  readonly action: string;
  /** The table, `"schema"."table"`. */
  readonly table?: string | undefined;
  /**
   * The statement has the same effect when sent twice (a fenced delete or
   * update): a statement cut by a lost connection is sent once more on a
   * new one. Default false.
   */
  readonly idempotent?: boolean | undefined;
}

/** Something that runs statements: the pool, or a client in the middle of a transaction. */
export interface Queryable {
  /** Runs one statement with `$1`, `$2`, … placeholders and their values. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

/** A PostgreSQL pool and a LISTEN connection, with health. */
export class PostgresService implements Service {
  /** Stable name, `postgres` by default. */
  readonly name: string;
  /** The resolved options. */
  readonly options: ResolvedServiceOptions;
  #pool: pg.Pool | undefined;
  #listener: Listener | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: PostgresServiceOptions = {}) {
    this.options = resolveServiceOptions(options);
    this.name = this.options.name;
  }

  /** The pool statements run on. Only after `start`. */
  get pool(): pg.Pool {
    if (!this.#pool)
      throw toConnectorError(new Error('the service is not started'), { action: 'use the pool' });
    return this.#pool;
  }

  /** Opens the pool (from `url`) and checks the server answers. Idempotent. */
  start(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#stopping) return this.#stopping.then(() => this.start(signal));
    this.#starting ??= this.#open().catch((error: unknown) => {
      this.#starting = undefined;
      throw toConnectorError(error, { action: `connect to ${redactUrl(this.options.url)}` });
    });
    return this.#starting;
  }

  /** Ends the LISTEN connection and the pool it opened (never a pool you gave). Idempotent. */
  stop(): Promise<void> {
    if (!this.#starting) return this.#stopping ?? Promise.resolve();
    this.#stopping ??= (async () => {
      await this.#starting?.catch(() => undefined);
      this.#starting = undefined;
      const listener = this.#listener;
      const pool = this.#pool;
      this.#listener = undefined;
      this.#pool = undefined;
      await listener?.close();
      if (pool && !this.options.pool) await pool.end().catch(() => undefined);
    })().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  /** Healthy when a statement gets an answer within a second and the LISTEN connection is up. */
  async health(): Promise<HealthStatus> {
    const pool = this.#pool;
    if (!pool || this.#stopping) return { healthy: false, detail: 'not started (or stopped)' };
    const listener = this.#listener;
    if (listener && !listener.healthy) {
      return {
        healthy: false,
        detail: `the LISTEN connection is down (${listener.lastError?.message ?? 'unknown'}); reconnecting`,
      };
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        pool.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('no answer within 1 s')), 1000);
        }),
      ]);
      return { healthy: true };
    } catch (error) {
      return {
        healthy: false,
        detail: `${redactUrl(this.options.url)} does not answer: ${error instanceof Error ? error.message : String(error)}`,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs one statement on `on` (default the pool). Failures become
   * `CONNECTOR_ERROR`; an idempotent statement cut by a lost connection is
   * sent once more on a new one.
   */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values: unknown[],
    context: QueryContext,
    on?: Queryable,
  ): Promise<pg.QueryResult<R>> {
    const target = on ?? this.pool;
    try {
      return await target.query<R>(text, values);
    } catch (error) {
      if (on || !context.idempotent || !isConnectionError(error) || !this.#pool)
        throw toConnectorError(error, context);
      try {
        return await this.#pool.query<R>(text, values);
      } catch (again) {
        throw toConnectorError(again, context);
      }
    }
  }

  /** Wakes `wake` on every NOTIFY of `channel`, and after the LISTEN connection came back. Returns the unsubscribe. */
  async listen(channel: string, wake: () => void): Promise<() => void> {
    await this.start();
    const pool = this.pool;
    this.#listener ??= new Listener({
      connect: async () => {
        const client = await pool.connect();
        let released = false;
        // Destroyed, never returned to the pool: it may still be listening, or broken.
        const release = () => {
          if (released) return;
          released = true;
          client.release(true);
        };
        return { client, release };
      },
      logger: this.options.logger,
    });
    try {
      return await this.#listener.subscribe(channel, wake);
    } catch (error) {
      throw toConnectorError(error, {
        action: `LISTEN on channel ${channel} at ${redactUrl(this.options.url)}`,
      });
    }
  }

  async #open(): Promise<void> {
    const { pool, url, applicationName, maxConnections, connectTimeoutMs, logger } = this.options;
    const opened =
      pool ??
      new pg.Pool({
        connectionString: url,
        application_name: applicationName,
        max: maxConnections,
        connectionTimeoutMillis: connectTimeoutMs,
        keepAlive: true,
      });
    if (!pool) {
      // An idle connection that dies (a restart, pg_terminate_backend) must not crash the process.
      opened.on('error', (error) =>
        logger.warn('postgres: an idle connection was lost; the pool opens a new one', {
          error: error.message,
        }),
      );
    }
    try {
      await opened.query('SELECT 1');
    } catch (error) {
      if (!pool) await opened.end().catch(() => undefined);
      throw error;
    }
    this.#pool = opened;
  }
}
