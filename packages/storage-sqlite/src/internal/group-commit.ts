/**
 * Group commit: the store calls made in one turn of the event loop (before
 * its next `process.nextTick` queue runs) go to the file in one IMMEDIATE
 * transaction, in the order they were made, each in a savepoint of its own.
 * A worker's finish and its next claim, the flows a client schedules with one
 * `Promise.all`, the writes of many runs ending together: one lock taken, one
 * commit, where each used to take its own. A commit is most of what a write
 * costs (the WAL append, the wal-index), and with several processes on one
 * file every transaction is a turn at the one write lock.
 *
 * A call that fails with an Ergon error (a stale token, an unknown flow) is
 * rolled back to its savepoint and fails alone, its events dropped, as it did
 * in a transaction of its own. Anything else (a full disk, a driver error)
 * abandons the group, and each call then runs alone, as it would have
 * without grouping, so it meets the runner's own handling (checkpoint and
 * retry, retries while another connection holds the lock) and fails alone.
 * A call made alone in its turn runs as it did before grouping.
 *
 * @module
 */
import { isErgonError } from '@ergon/core';
import type { Savepoint } from './batch.js';
import type { EventOutbox } from './feed.js';
import type { TransactionRunner } from './runner.js';

/** One call waiting for its turn's group. */
interface Call {
  /** Runs alone, as before grouping (the runner's writeNow, writeOneNow or readNow). */
  readonly alone: () => unknown;
  /** Runs inside the group's transaction. */
  readonly grouped: () => unknown;
  readonly write: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

/** Gathers one turn's store calls into one transaction (see the module notes). */
export class GroupCommit {
  readonly #runner: TransactionRunner;
  readonly #outbox: EventOutbox;
  readonly #savepoint: Savepoint;
  #calls: Call[] = [];
  readonly #flush = () => this.#run();

  constructor(runner: TransactionRunner, outbox: EventOutbox, savepoint: Savepoint) {
    this.#runner = runner;
    this.#outbox = outbox;
    this.#savepoint = savepoint;
  }

  /** A write, in one IMMEDIATE transaction (shared with the turn's other calls). */
  write<T>(fn: () => T): Promise<T> {
    return this.#add(() => this.#runner.writeNow(fn), fn, true);
  }

  /**
   * A write that is one statement (`single`), or when that writes nothing, `fallback` in a
   * transaction (see {@link TransactionRunner.writeOne}). In a group both run in its transaction.
   */
  writeOne<T>(single: () => T | undefined, fallback: () => T): Promise<T> {
    return this.#add(
      () => this.#runner.writeOneNow(single, fallback),
      () => single() ?? fallback(),
      true,
    );
  }

  /** A read: in the group's transaction when the turn also writes, so it sees the writes made before it. */
  read<T>(fn: () => T): Promise<T> {
    return this.#add(() => this.#runner.readNow(fn), fn, false);
  }

  #add<T>(alone: () => T | Promise<T>, grouped: () => T, write: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#calls.push({ alone, grouped, write, resolve: resolve as (value: unknown) => void, reject });
      if (this.#calls.length === 1) process.nextTick(this.#flush);
    });
  }

  #run(): void {
    const calls = this.#calls;
    this.#calls = [];
    if (calls.length === 1 || !calls.some((call) => call.write)) {
      for (const call of calls) alone(call);
      return;
    }
    const group = { abandoned: false };
    this.#runner
      .write(() => this.#together(calls, group))
      .then(
        (outcomes) => {
          outcomes.forEach((outcome, i) => {
            const call = calls[i] as Call;
            if (outcome.ok) call.resolve(outcome.value);
            else call.reject(outcome.error);
          });
        },
        (error) => {
          // One call failed otherwise than with an Ergon error: the group rolled back, each runs alone.
          if (group.abandoned) for (const call of calls) alone(call);
          // The transaction itself failed (the file stayed locked, the store closed): every call with it.
          else for (const call of calls) call.reject(error);
        },
      );
  }

  /** The calls in order, each in a savepoint. One that throws a non-Ergon error abandons the group. */
  #together(calls: readonly Call[], group: { abandoned: boolean }): Outcome[] {
    group.abandoned = false;
    const outcomes: Outcome[] = [];
    for (const call of calls) {
      const mark = this.#outbox.mark();
      try {
        outcomes.push({ ok: true, value: this.#savepoint(call.grouped) });
      } catch (error) {
        if (!isErgonError(error)) {
          group.abandoned = true;
          throw error;
        }
        this.#outbox.rollbackTo(mark);
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }
}

/** Runs `call` by itself and settles it: at once, or when its retries end. */
function alone(call: Call): void {
  let value: unknown;
  try {
    value = call.alone();
  } catch (error) {
    call.reject(error);
    return;
  }
  if (value instanceof Promise) value.then(call.resolve, call.reject);
  else call.resolve(value);
}
