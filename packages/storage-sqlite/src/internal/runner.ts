/**
 * Runs the store's work on its connection: writes in one `BEGIN IMMEDIATE`
 * transaction each, reads as they are, both retried while another connection
 * holds the lock. SQLite's busy handler waits at most a short slice (it blocks
 * the thread); the rest of the budget is spent in jittered async pauses that
 * leave the event loop free. No `SQLITE_BUSY` reaches the caller: past the
 * budget it becomes `STORE_UNAVAILABLE`.
 *
 * A write that fails for lack of space (`SQLITE_FULL`) checkpoints the WAL
 * into the database and truncates it, then runs once more: the WAL may hold
 * many versions of few pages, and until it is checkpointed it keeps space the
 * data no longer needs. (SQLite checkpoints by itself only after a commit
 * past 1000 pages, which a small volume never reaches.) While a checkpoint is
 * still owed, each write tries it first, so space freed meanwhile goes to the
 * data rather than to a WAL that grows into it. And the connection learns the
 * volume's size: from then on it checkpoints, and truncates, its WAL at half
 * the size that filled the volume, so a checkpoint always has room to run.
 *
 * @module
 */
import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError } from '@ergon/core';
import type Database from 'better-sqlite3';
import { isBusyError, isFullError, toErgonError } from './errors.js';
import { BUSY_SLICE_MS, backoffMs } from './retry.js';

/** What happens to a transaction's side effects (events) before it commits, once it commits or rolls back. */
export interface CommitHooks {
  /** The transaction's first step, inside it (before any statement of its work). */
  begin(): void;
  /** The transaction's last statements, inside it. */
  flush(): void;
  commit(): void;
  rollback(): void;
}

/** Transactions and retries on one connection. */
export class TransactionRunner {
  readonly #db: Database.Database;
  readonly #tx: Database.Transaction<(fn: () => unknown) => unknown>;
  readonly #where: string;
  readonly #retryMs: number;
  readonly #hooks: CommitHooks;
  #closed = false;
  /** A write failed for lack of space and the WAL could not be checkpointed since. */
  #checkpointOwed = false;
  /** The WAL size, in pages, past which a commit checkpoints (SQLite's default until a volume fills). */
  #walPages = 1000;

  constructor(options: { db: Database.Database; where: string; busyTimeoutMs: number; hooks: CommitHooks }) {
    this.#db = options.db;
    const hooks = options.hooks;
    this.#tx = options.db.transaction((fn: () => unknown) => {
      hooks.begin();
      const result = fn();
      hooks.flush();
      return result;
    });
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
    return settled(() => this.writeNow(fn));
  }

  /**
   * {@link write}, answered now when it can be: the value, or a promise while the file is
   * locked (the retries). @throws what the write failed with, as an Ergon error.
   */
  writeNow<T>(fn: () => T): T | Promise<T> {
    const run = () => this.#tx.immediate(fn) as T;
    try {
      if (this.#closed) throw this.#closedError();
      return this.#commit(run);
    } catch (error) {
      if (isBusyError(error)) return this.#retry(run, error);
      throw toErgonError(error, this.#where);
    }
  }

  /**
   * Runs `single`, which must make at most one write statement, without an explicit
   * transaction: SQLite runs a lone write statement as its own transaction, taking the
   * write lock before it reads, as `BEGIN IMMEDIATE` does. When it returns undefined,
   * runs `fallback` in one BEGIN IMMEDIATE transaction instead. Answered now when it can be
   * (see {@link writeNow}).
   */
  writeOneNow<T>(single: () => T | undefined, fallback: () => T): T | Promise<T> {
    try {
      if (this.#closed) throw this.#closedError();
      const result = this.#checkpointOwed ? this.#commit(single) : single();
      if (result !== undefined) return result;
    } catch (error) {
      if (isBusyError(error))
        return this.#retry(() => single() ?? (this.#tx.immediate(fallback) as T), error);
      if (isFullError(error)) return this.writeNow(fallback);
      throw toErgonError(error, this.#where);
    }
    return this.writeNow(fallback);
  }

  /** Runs a read. WAL readers rarely wait, but a checkpoint or a recovery can make them. */
  read<T>(fn: () => T): Promise<T> {
    return settled(() => this.readNow(fn));
  }

  /** {@link read}, answered now when it can be (see {@link writeNow}). */
  readNow<T>(fn: () => T): T | Promise<T> {
    try {
      if (this.#closed) throw this.#closedError();
      return fn();
    } catch (error) {
      if (isBusyError(error)) return this.#retry(fn, error);
      throw toErgonError(error, this.#where);
    }
  }

  async #retry<T>(attempt: () => T, first: unknown): Promise<T> {
    const deadline = Date.now() + this.#retryMs;
    let last = first;
    for (let n = 0; Date.now() < deadline; n++) {
      await sleep(Math.min(backoffMs(n), Math.max(1, deadline - Date.now())));
      if (this.#closed) throw this.#closedError();
      try {
        return this.#commit(attempt);
      } catch (error) {
        if (!isBusyError(error)) throw toErgonError(error, this.#where);
        last = error;
      }
    }
    throw toErgonError(last, this.#where);
  }

  /**
   * Runs `run` and delivers its events, or drops them when it fails. A run that fails
   * for lack of space checkpoints the WAL and, when that worked, runs once more.
   */
  #commit<T>(run: () => T): T {
    if (this.#checkpointOwed) this.#checkpoint();
    try {
      const result = run();
      this.#hooks.commit();
      return result;
    } catch (error) {
      this.#hooks.rollback();
      if (!isFullError(error)) throw error;
      this.#checkpointOwed = true;
      this.#boundWal();
      if (!this.#checkpoint()) throw error;
    }
    try {
      const result = run();
      this.#hooks.commit();
      return result;
    } catch (error) {
      this.#hooks.rollback();
      if (isFullError(error)) this.#checkpointOwed = true;
      throw error;
    }
  }

  /**
   * The volume filled while the WAL was this large: from now on checkpoint it at half that
   * size, and truncate it after each checkpoint, so the checkpoint keeps room to run.
   */
  #boundWal(): void {
    if (this.#db.memory) return;
    try {
      const bytes = statSync(`${this.#db.name}-wal`).size;
      const pageSize = this.#db.pragma('page_size', { simple: true }) as number;
      const pages = Math.max(16, Math.floor(bytes / 2 / pageSize));
      if (pages >= this.#walPages) return;
      this.#walPages = pages;
      // Whole numbers of this code's making: pragmas take no parameters.
      this.#db.pragma(`wal_autocheckpoint = ${pages}`);
      this.#db.pragma(`journal_size_limit = ${pages * pageSize}`);
    } catch {
      // No WAL file to measure (or a pragma refused): keep SQLite's defaults.
    }
  }

  /** Copies the WAL into the database and truncates it; true when it completed. */
  #checkpoint(): boolean {
    try {
      const [row] = this.#db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      if (row?.busy !== 0) return false;
      this.#checkpointOwed = false;
      return true;
    } catch {
      // Still no room (SQLITE_FULL), or the file is locked: the next write tries again.
      return false;
    }
  }

  #closedError(): Error {
    return new StoreUnavailableError('sqlite', `the store on ${this.#where} is closed: open a new one`);
  }
}

/** A promise of what `now` answers (a value, or a promise of one) or throws. */
function settled<T>(now: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(now());
  } catch (error) {
    return Promise.reject(error);
  }
}
