/**
 * Group commit: the store calls made in one turn of the event loop (before
 * its next `process.nextTick` queue runs) go to the file in one IMMEDIATE
 * transaction, in the order they were made, each kept apart (`batch.ts`).
 * A worker's finish and its next claim, the flows a client schedules with one
 * `Promise.all`, the writes of many runs ending together: one lock taken, one
 * commit, where each used to take its own. A commit is most of what a write
 * costs (the WAL append, the wal-index), and with several processes on one
 * file every transaction is a turn at the one write lock.
 *
 * A turn's transaction is first tried bare (no savepoints, see `batch.ts`).
 * When a call throws, it is run again with a savepoint per call: one that
 * fails with an Ergon error (a stale token, an unknown flow) is rolled back to
 * its savepoint and fails alone, its events dropped, as it did in a
 * transaction of its own. Anything else (a full disk, a driver error)
 * abandons the group, and each call then runs alone, as it would have
 * without grouping, so it meets the runner's own handling (checkpoint and
 * retry, retries while another connection holds the lock) and fails alone.
 * A call made alone in its turn runs as it did before grouping (a batch
 * in it tried bare first too). A one-statement write (a history record)
 * made while nothing of its turn waits runs at once, as that lone statement:
 * calls after it in the turn form the group.
 *
 * @module
 */
import type { Apart, BareTry, Outcome } from './batch.js';
import type { TransactionRunner } from './runner.js';

/** One call waiting for its turn's group: a write, a write of one statement (with its fallback), or a read. */
interface Call {
  readonly kind: 'write' | 'one' | 'read';
  readonly fn: () => unknown;
  /** `one`: what runs when `fn` wrote nothing (see {@link TransactionRunner.writeOneNow}). */
  readonly fallback: (() => unknown) | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Gathers one turn's store calls into one transaction (see the module notes). */
export class GroupCommit {
  readonly #runner: TransactionRunner;
  readonly #apart: Apart;
  #calls: Call[] = [];
  readonly #flush = () => this.#run();

  constructor(runner: TransactionRunner, apart: Apart) {
    this.#runner = runner;
    this.#apart = apart;
  }

  /** A write, in one IMMEDIATE transaction (shared with the turn's other calls). */
  write<T>(fn: () => T): Promise<T> {
    return this.#add('write', fn);
  }

  /**
   * A write that is one statement (`single`), or when that writes nothing, `fallback` in a
   * transaction (see {@link TransactionRunner.writeOneNow}). In a group both run in its transaction.
   */
  writeOne<T>(single: () => T | undefined, fallback: () => T): Promise<T> {
    if (this.#calls.length === 0) return this.#now(single, fallback);
    return this.#add('one', single, fallback);
  }

  /**
   * A one-statement write made while no call of this turn waits: it runs now, as the lone
   * statement it would be in its group (a group of one such call runs alone, see {@link #run}),
   * without the promise, the `nextTick` and the group they would cost: the step path of a flow
   * that runs its steps one by one, which never has company. A call later in this turn starts
   * the turn's group; earlier ones, if any, have already run, so calls still run in call order.
   */
  #now<T>(single: () => T | undefined, fallback: () => T): Promise<T> {
    try {
      return Promise.resolve(this.#runner.writeOneNow(single, fallback));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A read: in the group's transaction when the turn also writes, so it sees the writes made before it. */
  read<T>(fn: () => T): Promise<T> {
    return this.#add('read', fn);
  }

  #add<T>(kind: Call['kind'], fn: () => unknown, fallback?: () => unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#calls.push({ kind, fn, fallback, resolve: resolve as (value: unknown) => void, reject });
      if (this.#calls.length === 1) process.nextTick(this.#flush);
    });
  }

  #run(): void {
    const calls = this.#calls;
    this.#calls = [];
    if (calls.every((call) => call.kind === 'read') || (calls.length === 1 && calls[0]?.kind === 'one')) {
      for (const call of calls) this.#alone(call);
      return;
    }
    const apart = this.#apart;
    const bare: BareTry = { refused: false };
    const lone = calls.length === 1 ? (calls[0] as Call) : undefined;
    // A lone write is its own transaction; only a batch in it has items to keep apart.
    const attempt = lone ? lone.fn : () => apart.each(calls, grouped);
    this.#runner
      .write(() => apart.bare(bare, attempt))
      .then(
        (value) => {
          if (lone) lone.resolve(value);
          else settle(calls, value as Outcome<unknown>[]);
        },
        (error) => {
          // A call refused: run again with each call (or batch item) apart.
          if (bare.refused) this.#again(calls);
          // A lone write failed, or the transaction itself did (the file stayed locked, the store closed).
          else for (const call of calls) call.reject(error);
        },
      );
  }

  /** The calls once more, each apart: one that fails with a non-Ergon error makes each run alone. */
  #again(calls: readonly Call[]): void {
    if (calls.length === 1) {
      this.#alone(calls[0] as Call);
      return;
    }
    const group = { abandoned: false };
    this.#runner
      .write(() => this.#together(calls, group))
      .then(
        (outcomes) => settle(calls, outcomes),
        (error) => {
          // One call failed otherwise than with an Ergon error: the group rolled back, each runs alone.
          if (group.abandoned) for (const call of calls) this.#alone(call);
          // The transaction itself failed (the file stayed locked, the store closed): every call with it.
          else for (const call of calls) call.reject(error);
        },
      );
  }

  /** Runs `call` by itself, as before grouping, and settles it: at once, or when its retries end. */
  #alone(call: Call): void {
    let value: unknown;
    try {
      value =
        call.kind === 'write'
          ? this.#runner.writeNow(call.fn)
          : call.kind === 'one'
            ? this.#runner.writeOneNow(call.fn, call.fallback as () => unknown)
            : this.#runner.readNow(call.fn);
    } catch (error) {
      call.reject(error);
      return;
    }
    if (value instanceof Promise) value.then(call.resolve, call.reject);
    else call.resolve(value);
  }

  /** The calls in order, each in a savepoint. One that throws a non-Ergon error abandons the group. */
  #together(calls: readonly Call[], group: { abandoned: boolean }): Outcome<unknown>[] {
    // The runner may run this again (after a full disk was checkpointed): judge each run by itself.
    group.abandoned = false;
    try {
      return this.#apart.each(calls, grouped);
    } catch (error) {
      group.abandoned = true;
      throw error;
    }
  }
}

/** Settles each call with its outcome. */
function settle(calls: readonly Call[], outcomes: readonly Outcome<unknown>[]): void {
  outcomes.forEach((outcome, i) => {
    const call = calls[i] as Call;
    if (outcome.ok) call.resolve(outcome.value);
    else call.reject(outcome.error);
  });
}

/** What `call` runs inside a group's transaction. */
function grouped(call: Call): unknown {
  return call.kind === 'one' ? (call.fn() ?? (call.fallback as () => unknown)()) : call.fn();
}
