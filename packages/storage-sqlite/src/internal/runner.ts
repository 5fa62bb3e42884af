/**
 * Runs the store's work on its connection: writes in one `BEGIN IMMEDIATE`
 * transaction each, reads as they are, both retried while another connection
 * holds the lock. SQLite's busy handler waits at most a short slice (it blocks
 * the thread); the rest of the budget is spent in jittered async pauses that
 * leave the event loop free. No `SQLITE_BUSY` reaches the caller: past the
 * budget it becomes `STORE_UNAVAILABLE`.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError } from '@ergon/core';
import type Database from 'better-sqlite3';
import { isBusyError, toErgonError } from './errors.js';
import { BUSY_SLICE_MS, backoffMs } from './retry.js';

/** What happens to a transaction's side effects (events) once it commits or rolls back. */
export interface CommitHooks {
  commit(): void;
  rollback(): void;
}

/** Transactions and retries on one connection. */
export class TransactionRunner {
  readonly #tx: Database.Transaction<(fn: () => unknown) => unknown>;
  readonly #where: string;
  readonly #retryMs: number;
  readonly #hooks: CommitHooks;
  #closed = false;

  constructor(options: { db: Database.Database; where: string; busyTimeoutMs: number; hooks: CommitHooks }) {
    this.#tx = options.db.transaction((fn: () => unknown) => fn());
    this.#where = options.where;
    // The first attempt already waited up to one slice inside SQLite.
    this.#retryMs = Math.max(0, options.busyTimeoutMs - BUSY_SLICE_MS);
    this.#hooks = options.hooks;
  }

  /** Refuses all later work with `STORE_UNAVAILABLE`. */
  close(): void {
    this.#closed = true;
  }

  /** Runs `fn` in one BEGIN IMMEDIATE transaction. Settles at once unless the file is locked. */
  write<T>(fn: () => T): Promise<T> {
    try {
      if (this.#closed) throw this.#closedError();
      const result = this.#tx.immediate(fn) as T;
      this.#hooks.commit();
      return Promise.resolve(result);
    } catch (error) {
      this.#hooks.rollback();
      if (isBusyError(error)) return this.#retry(() => this.#tx.immediate(fn) as T, error);
      return Promise.reject(toErgonError(error, this.#where));
    }
  }

  /**
   * Runs `single`, which must make at most one write statement, without an explicit
   * transaction: SQLite runs a lone write statement as its own transaction, taking the
   * write lock before it reads, as `BEGIN IMMEDIATE` does. When it returns undefined,
   * runs `fallback` in one BEGIN IMMEDIATE transaction instead.
   */
  writeOne<T>(single: () => T | undefined, fallback: () => T): Promise<T> {
    try {
      if (this.#closed) throw this.#closedError();
      const result = single();
      if (result !== undefined) return Promise.resolve(result);
    } catch (error) {
      if (isBusyError(error))
        return this.#retry(() => single() ?? (this.#tx.immediate(fallback) as T), error);
      return Promise.reject(toErgonError(error, this.#where));
    }
    return this.write(fallback);
  }

  /** Runs a read. WAL readers rarely wait, but a checkpoint or a recovery can make them. */
  read<T>(fn: () => T): Promise<T> {
    try {
      if (this.#closed) throw this.#closedError();
      return Promise.resolve(fn());
    } catch (error) {
      if (isBusyError(error)) return this.#retry(fn, error);
      return Promise.reject(toErgonError(error, this.#where));
    }
  }

  async #retry<T>(attempt: () => T, first: unknown): Promise<T> {
    const deadline = Date.now() + this.#retryMs;
    let last = first;
    for (let n = 0; Date.now() < deadline; n++) {
      await sleep(Math.min(backoffMs(n), Math.max(1, deadline - Date.now())));
      if (this.#closed) throw this.#closedError();
      try {
        const result = attempt();
        this.#hooks.commit();
        return result;
      } catch (error) {
        this.#hooks.rollback();
        if (!isBusyError(error)) throw toErgonError(error, this.#where);
        last = error;
      }
    }
    throw toErgonError(last, this.#where);
  }

  #closedError(): Error {
    return new StoreUnavailableError('sqlite', `the store on ${this.#where} is closed: open a new one`);
  }
}
