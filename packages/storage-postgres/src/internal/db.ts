/**
 * Kysely builds every query; pg runs it. Fixed queries are built once with
 * named placeholders ({@link param}), compiled, and run as named prepared
 * statements (parsed and planned once per connection). `bigint` columns are
 * read back as numbers through per-query type parsers, so the store works on
 * any pool without changing its global parsers.
 *
 * {@link Db} runs single statements in autocommit and transactions (retried
 * whole when the server rolls one back for a serialization failure or a
 * deadlock), and maps every failure once ({@link toErgonError}).
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { StoreEvent } from '@ergon/core';
import type { Compilable } from 'kysely';
import pg from 'pg';
import type { PostgresPool, PostgresPoolClient, PostgresQueryConfig } from '../options.js';
import { isConflict, isConnectionError, toErgonError } from './errors.js';

const INT8_OID = 20;

/** pg's parsers, except `bigint` (ms times, tokens, positions) read as a number. */
const TYPES: NonNullable<PostgresQueryConfig['types']> = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8_OID) return Number;
    return pg.types.getTypeParser(oid, (format ?? 'text') as 'text');
  },
};

/** A named placeholder, replaced by the value of that name when the statement runs. */
class Param {
  constructor(readonly name: string) {}
}

/**
 * A placeholder to use in a Kysely query in place of a value. Typed as `T` so the
 * builder type-checks; it is only ever compiled, never executed by Kysely.
 */
export function param<T>(name: string): T {
  return new Param(name) as unknown as T;
}

/** Values by placeholder name. */
type Values = object;

/** A compiled query run as a named prepared statement. */
export class Statement<Row = unknown> {
  /** The prepared statement's name (unique per store schema and query). */
  readonly name: string;
  /** The SQL text. */
  readonly text: string;
  readonly #names: readonly (string | undefined)[];
  readonly #constants: readonly unknown[];
  declare readonly row: Row;

  constructor(name: string, query: Compilable) {
    const compiled = query.compile();
    this.name = name;
    this.text = compiled.sql;
    this.#names = compiled.parameters.map((p) => (p instanceof Param ? p.name : undefined));
    this.#constants = compiled.parameters.map((p) => (p instanceof Param ? undefined : p));
  }

  /** The query config for `values`. */
  config(values: Values): PostgresQueryConfig {
    const names = this.#names;
    const args = new Array<unknown>(names.length);
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      args[i] = name === undefined ? this.#constants[i] : ((values as Record<string, unknown>)[name] ?? null);
    }
    return { name: this.name, text: this.text, values: args, types: TYPES };
  }
}

/** An unnamed query (built per call: lists, migrations' checks). */
export function adhoc(query: Compilable): PostgresQueryConfig {
  const compiled = query.compile();
  return { text: compiled.sql, values: [...compiled.parameters], types: TYPES };
}

/** What statements run on: the pool (autocommit) or a transaction's connection. */
export interface Queryable {
  query<Row>(config: PostgresQueryConfig): Promise<{ rows: Row[] }>;
}

/** Runs one statement; its rows. */
export async function rows<Row>(
  on: Queryable,
  statement: Statement<Row>,
  values: Values = {},
): Promise<Row[]> {
  return (await on.query<Row>(statement.config(values))).rows;
}

/** A transaction in progress: statements on its connection, and events sent after COMMIT. */
export interface Tx extends Queryable {
  /** Queues an event that goes out when (and only if) the transaction has committed. */
  emit(event: StoreEvent): void;
}

/** How a transaction commits. */
export interface TransactionOptions {
  /**
   * COMMIT returns without waiting for the WAL flush (`synchronous_commit = off` for this
   * transaction only): its locks are let go a flush sooner. The caller makes the change durable
   * before it answers, by a synchronous commit after it (flow control's `fcFlushed`).
   */
  readonly asyncCommit?: boolean;
}

/** BEGIN, and no waiting for the flush at COMMIT: one round trip (two statements, no parameters). */
const BEGIN_ASYNC_COMMIT = 'BEGIN; SET LOCAL synchronous_commit TO OFF';

/** Longest run of attempts of a transaction the server keeps rolling back for conflicts. */
const CONFLICT_ATTEMPTS = 8;
/** Attempts of a call whose connection is lost (the first included), when the call may be repeated. */
const CONNECTION_ATTEMPTS = 3;

/** How a call may be repeated after its connection was lost. */
export type Repeat =
  /** Running it twice has the effect of running it once: repeat on a new connection. */
  | 'idempotent'
  /** Not safe to repeat (a duplicate signal, a claim whose reply was lost): report the loss. */
  | 'never';

/** The pools, where events go after a commit, and the policies around each call. */
export class Db {
  /** Where statements and transactions run. */
  readonly pool: PostgresPool;
  /**
   * Where lease renewals and the worker registry's calls run: connections of their own when the
   * store made its pool, so a pool saturated by other calls never delays them past a lease.
   */
  readonly urgent: PostgresPool;
  /** Called with the events of each committed transaction. */
  readonly #committed: (events: StoreEvent[]) => void;

  constructor(
    pools: { pool: PostgresPool; urgent: PostgresPool },
    committed: (events: StoreEvent[]) => void,
  ) {
    this.pool = pools.pool;
    this.urgent = pools.urgent;
    this.#committed = committed;
  }

  /**
   * Runs `fn` (statements on the pool, transactions) as the store call `action`: failures are
   * mapped to Ergon errors, and a lost connection is tried again on a new one when `repeat`
   * says so. `fn` learns whether it is a repeat, to recognise its own earlier effect.
   */
  async call<T>(action: string, repeat: Repeat, fn: (repeated: boolean) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(attempt > 1);
      } catch (error) {
        if (repeat === 'idempotent' && attempt < CONNECTION_ATTEMPTS && isConnectionError(error)) {
          await sleep(attempt * 5);
          continue;
        }
        throw toErgonError(error, action);
      }
    }
  }

  /**
   * Runs `fn` in a transaction (READ COMMITTED) on one connection, hands the events it queued
   * on once it has committed, and runs it again from the start when the server rolls it back
   * for a conflict.
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const { client, release } = await checkout(this.pool);
      let broken: Error | undefined;
      const events: StoreEvent[] = [];
      const tx: Tx = {
        query: (config) => client.query(config),
        emit: (event) => {
          events.push(event);
        },
      };
      try {
        await client.query(options.asyncCommit ? BEGIN_ASYNC_COMMIT : 'BEGIN');
        const result = await fn(tx);
        await client.query('COMMIT');
        this.#committed(events);
        return result;
      } catch (error) {
        broken = await rollback(client, error);
        if (isConflict(error) && attempt < CONFLICT_ATTEMPTS) {
          await sleep(Math.random() * 2 ** Math.min(attempt, 6));
          continue;
        }
        throw error;
      } finally {
        release(broken);
      }
    }
  }
}

/**
 * Runs `statement` on its own (it commits as it ends), without waiting for the WAL flush:
 * `synchronous_commit` is off on its connection around it, so the row locks it takes are let go
 * as soon as it has run, not after a flush (nor after a round trip to a COMMIT, as in a
 * transaction). The caller makes the change durable before it answers, by a synchronous commit
 * after it. A connection whose setting could not be put back is closed, never reused.
 */
export async function asyncCommitted<Row>(
  pool: PostgresPool,
  statement: Statement<Row>,
  values: Values,
): Promise<Row[]> {
  const { client, release } = await checkout(pool);
  let broken: Error | undefined;
  try {
    await client.query('SET synchronous_commit TO OFF');
    try {
      return (await client.query<Row>(statement.config(values))).rows;
    } finally {
      await client.query('RESET synchronous_commit').catch((error: Error) => {
        broken = error;
      });
    }
  } catch (error) {
    broken ??= isConnectionError(error) ? (error as Error) : undefined;
    throw error;
  } finally {
    release(broken);
  }
}

/**
 * A connection taken from the pool for several statements. A server that ends it between two
 * statements makes pg emit `error` on it, which would crash the process without a listener:
 * the listener stays until the connection is given back (its next statement fails anyway).
 */
export async function checkout(
  pool: PostgresPool,
): Promise<{ client: PostgresPoolClient; release: (error?: Error) => void }> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost = error;
  };
  client.on('error', onError);
  return {
    client,
    release: (error) => {
      client.removeListener('error', onError);
      client.release(error ?? lost);
    },
  };
}

/** Rolls back after `error`; returns the error to close the connection with, when it cannot be reused. */
async function rollback(client: PostgresPoolClient, error: unknown): Promise<Error | undefined> {
  if (isConnectionError(error)) return error as Error;
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (rollbackError) {
    return rollbackError as Error;
  }
}
