/**
 * Items of one IMMEDIATE transaction kept apart: the writes of a batch
 * (`applyWrites`), the creates of `createFlows`, the calls of a group commit.
 * One that fails with an Ergon error (a stale token) writes nothing, emits
 * nothing and fails alone; a driver failure (a locked file, a full disk) fails
 * the whole transaction, which the runner retries or reports as it does any write.
 *
 * Keeping an item apart takes a savepoint, and a savepoint costs about as much
 * as the write it guards: opening one, copying each page it changes into the
 * savepoint journal, releasing it (a third of a one-step flow's SQLite time
 * with one per write and one per grouped call). Items are rarely refused, so a
 * transaction is first tried bare ({@link Apart.bare}): no savepoints, and an
 * item that throws anything fails the whole try, which rolls back and is run
 * again with a savepoint per item, where that item fails alone as before.
 *
 * @module
 */
import {
  asksNext,
  type BatchOutcome,
  type BatchWrite,
  type CreateOutcome,
  isErgonError,
  type NewFlow,
} from '@ergon/core';
import type Database from 'better-sqlite3';
import type { EventOutbox } from './feed.js';
import { claimAfterBatch } from './finish-claims.js';
import { recordFast, recordOperation } from './history.js';
import { createFlow, finishFlow, suspend } from './lifecycle.js';
import type { TxContext } from './queries.js';
import type { QueueCache } from './queue-cache.js';

/** One item's outcome: its value, or the Ergon error it alone failed with. */
export type Outcome<V> = { ok: true; value: V } | { ok: false; error: unknown };

/** A bare try: whether an item threw (so the try failed for an item, not for want of the lock). */
export interface BareTry {
  refused: boolean;
}

/** Keeps the items of the running transaction apart (see the module notes). */
export class Apart {
  readonly #outbox: EventOutbox;
  readonly #queues: QueueCache;
  readonly #nested: Database.Transaction<(fn: () => unknown) => unknown>;
  #bare: BareTry | undefined;

  constructor(db: Database.Database, outbox: EventOutbox, queues: QueueCache) {
    this.#outbox = outbox;
    this.#queues = queues;
    // Inside the runner's transaction a nested better-sqlite3 transaction is a savepoint.
    this.#nested = db.transaction((fn: () => unknown) => fn());
  }

  /**
   * Runs `attempt` (the body of a write transaction) with no savepoints: an item that throws
   * marks `bare` refused and fails it whole. Run it again without `bare` to keep items apart.
   */
  bare<T>(bare: BareTry, attempt: () => T): T {
    // The runner may run an attempt again (the lock, a full disk): judge each by itself.
    bare.refused = false;
    this.#bare = bare;
    try {
      return attempt();
    } finally {
      this.#bare = undefined;
    }
  }

  /**
   * Applies `fn` to each item: in a savepoint of its own, where one that throws an Ergon error
   * fails alone and any other error is thrown; or in a bare try, with none, where any error is thrown.
   */
  each<T, V>(items: readonly T[], fn: (item: T) => V): Outcome<V>[] {
    const bare = this.#bare;
    if (bare !== undefined) {
      const outcomes = new Array<Outcome<V>>(items.length);
      try {
        for (let i = 0; i < items.length; i++) outcomes[i] = { ok: true, value: fn(items[i] as T) };
      } catch (error) {
        bare.refused = true;
        throw error;
      }
      return outcomes;
    }
    return items.map((item) => {
      const mark = this.#outbox.mark();
      try {
        return { ok: true, value: this.#nested(() => fn(item)) as V };
      } catch (error) {
        if (!isErgonError(error)) throw error;
        this.#outbox.rollbackTo(mark);
        // What the item read of the queues table may have been its own, now undone.
        this.#queues.forget();
        return { ok: false, error };
      }
    });
  }
}

/**
 * Applies `writes` in order, then the next claims of its finishes (`finish-claims.ts`); runs inside
 * the runner's write transaction.
 */
export function applyBatch(ctx: TxContext, apart: Apart, writes: readonly BatchWrite[]): BatchOutcome[] {
  const outcomes = apart.each(writes, (write) => applyOne(ctx, write));
  if (asksNext(writes)) claimAfterBatch(ctx, writes, outcomes);
  return outcomes;
}

/** Creates `flows` in order (`createFlows`); runs inside the runner's write transaction. */
export function createBatch(ctx: TxContext, apart: Apart, flows: readonly NewFlow[]): CreateOutcome[] {
  return apart.each(flows, (flow) => createFlow(ctx, flow));
}

function applyOne(ctx: TxContext, write: BatchWrite): Extract<BatchOutcome, { ok: true }>['value'] {
  switch (write.op) {
    case 'record':
      return recordFast(ctx, write.request) ?? recordOperation(ctx, write.request);
    case 'suspend':
      return suspend(ctx, write.request);
    case 'finish':
      finishFlow(ctx, write.request);
      return undefined;
  }
}
