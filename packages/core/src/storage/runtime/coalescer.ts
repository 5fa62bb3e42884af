/**
 * Coalescing (DESIGN §7): the writes a process makes while its previous batch
 * is in flight wait and then go together as one store call (`applyWrites`
 * for records, suspensions and finishes; `createFlows` for creates): one
 * SQLite transaction, one Redis script for many flows. Writes made in one
 * turn of the event loop go together too. A write made when nothing waits
 * goes at once, through its single call, so an idle worker's latency does not
 * grow. Each write settles with its own outcome: one flow's refused write
 * never fails another's.
 *
 * @module
 */

import { applyWrite, type BatchValue } from '../batch.js';
import { StoreUnavailableError } from '../errors.js';
import type { BatchWrite, CreateFlowResult, ExecutionLog, NewFlow } from '../execution-log.js';
import { MAX_BATCH_WRITES } from '../execution-log.js';

/** Reactions on it run as microtasks (see `#schedule`). */
const RESOLVED = Promise.resolve();

/** Batches in flight at once: the next one forms while the store answers the last. */
const MAX_IN_FLIGHT = 2;

/**
 * Batches of one item in a row after which the coalescer takes the writes as coming one at a time
 * (one flow running its steps one after another): an item made while nothing is queued or in
 * flight then goes at once, without waiting for the end of its turn. A batch of more ends that.
 */
const QUIET_BATCHES = 2;

/** What one item of a batch did. */
export type Outcome<V> =
  | { readonly ok: true; readonly value: V }
  | { readonly ok: false; readonly error: unknown };

/** How a {@link Coalescer} reaches its store. */
export interface BatchTarget<T, V> {
  /** The store's name, for errors. */
  readonly name: string;
  /** The single call of one item. */
  one(item: T): Promise<V>;
  /** The batch call: one outcome per item, in order. */
  many(items: readonly T[]): Promise<Outcome<V>[]>;
}

interface Pending<T, V> {
  readonly item: T;
  /** Where its outcome goes: the promise of a single item, or its group's. */
  readonly sink: Sink<V>;
  /** Its place in its group (0 for a single item). */
  readonly index: number;
  /** Items of one group ({@link Coalescer.submitInOrder}) share a number, never 0, and one batch. */
  readonly group: number;
}

/** Takes the outcome of one queued item. */
interface Sink<V> {
  ok(index: number, value: V): void;
  fail(index: number, error: unknown): void;
}

/** The promise of one item of {@link Coalescer.submit}. */
class Single<V> implements Sink<V> {
  resolve!: (value: V) => void;
  reject!: (error: unknown) => void;

  ok(_index: number, value: V): void {
    this.resolve(value);
  }

  fail(_index: number, error: unknown): void {
    this.reject(error);
  }
}

/**
 * The one promise of a group ({@link Coalescer.submitInOrder}): it resolves with every item's
 * outcome once the last has one, rather than a promise per item joined by `Promise.all`.
 */
class Group<V> implements Sink<V> {
  readonly outcomes: Outcome<V>[];
  #left: number;
  resolve!: (outcomes: Outcome<V>[]) => void;

  constructor(size: number) {
    this.outcomes = new Array(size);
    this.#left = size;
  }

  ok(index: number, value: V): void {
    this.outcomes[index] = { ok: true, value };
    if (--this.#left === 0) this.resolve(this.outcomes);
  }

  fail(index: number, error: unknown): void {
    this.outcomes[index] = { ok: false, error };
    if (--this.#left === 0) this.resolve(this.outcomes);
  }
}

/** The writes (records, suspensions, finishes) of a store with `applyWrites`. */
export function writeCoalescer(
  store: ExecutionLog & Required<Pick<ExecutionLog, 'applyWrites'>>,
): Coalescer<BatchWrite, BatchValue> {
  return new Coalescer({
    name: store.name,
    one: (write) => applyWrite(store, write),
    many: (writes) => store.applyWrites(writes),
  });
}

/** The creates of a store with `createFlows`. */
export function createCoalescer(
  store: ExecutionLog & Required<Pick<ExecutionLog, 'createFlows'>>,
): Coalescer<NewFlow, CreateFlowResult> {
  return new Coalescer({
    name: store.name,
    one: (flow) => store.createFlow(flow),
    many: (flows) => store.createFlows(flows),
  });
}

/** Coalesces one kind of call of one store. */
export class Coalescer<T, V> {
  readonly #target: BatchTarget<T, V>;
  #queue: Pending<T, V>[] = [];
  #inFlight = 0;
  #scheduled = false;
  #groups = 0;
  /** Batches of one item in a row, up to {@link QUIET_BATCHES}; 0 after a batch of more. */
  #quiet = 0;

  constructor(target: BatchTarget<T, V>) {
    this.#target = target;
  }

  /** Queues `item`; settles as its single call would. */
  submit(item: T): Promise<V> {
    if (this.#quiet === QUIET_BATCHES && this.#inFlight === 0 && this.#queue.length === 0)
      return this.#now(item);
    const sink = new Single<V>();
    const promise = new Promise<V>((resolve, reject) => {
      sink.resolve = resolve;
      sink.reject = reject;
    });
    this.#queue.push({ item, sink, index: 0, group: 0 });
    this.#schedule();
    return promise;
  }

  /**
   * Queues `writes` (at most {@link MAX_BATCH_WRITES}) to go in one batch, in this order, so
   * they apply in order whatever other batches are in flight. Each settles with its own outcome.
   */
  submitInOrder(items: readonly T[]): Promise<Outcome<V>[]> {
    if (items.length === 0) return Promise.resolve([]);
    const group = ++this.#groups;
    const sink = new Group<V>(items.length);
    const promise = new Promise<Outcome<V>[]>((resolve) => {
      sink.resolve = resolve;
    });
    for (let index = 0; index < items.length; index++)
      this.#queue.push({ item: items[index] as T, sink, index, group });
    this.#schedule();
    return promise;
  }

  /**
   * An item made while the writes come one at a time and nothing waits: its single call, made now,
   * is its answer. No promise, reaction and turn of the coalescer's own: a flow running its steps
   * one by one pays them on every step. It holds a place in flight like a batch, so what comes
   * meanwhile gathers behind it as before.
   */
  #now(item: T): Promise<V> {
    let answer: Promise<V>;
    try {
      answer = this.#target.one(item);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#inFlight++;
    answer.then(this.#sent, this.#sent);
    return answer;
  }

  /** Sends what waits at the end of this turn, unless the batches in flight are enough. */
  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= MAX_IN_FLIGHT || this.#queue.length === 0) return;
    this.#scheduled = true;
    // A settled promise's reaction, not queueMicrotask: that one makes an AsyncResource per call,
    // and a flow that runs its steps one by one schedules a batch per step.
    RESOLVED.then(this.#scheduledFlush);
  }

  /** {@link #schedule}'s reaction, made once rather than per batch. */
  readonly #scheduledFlush = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  #flush(): void {
    while (this.#inFlight < MAX_IN_FLIGHT && this.#queue.length > 0) {
      const size = this.#queue.length <= MAX_BATCH_WRITES ? this.#queue.length : this.#cut();
      const batch = size === this.#queue.length ? this.#queue : this.#queue.slice(0, size);
      this.#queue = batch === this.#queue ? [] : this.#queue.slice(size);
      this.#inFlight++;
      if (batch.length > 1) this.#quiet = 0;
      else if (this.#quiet < QUIET_BATCHES) this.#quiet++;
      const only = batch.length === 1 ? batch[0] : undefined;
      if (only) this.#sendOne(only);
      else this.#send(batch).then(this.#sent, this.#sent);
    }
  }

  /** A batch is answered: its place in flight is free for the next. */
  readonly #sent = (): void => {
    this.#inFlight--;
    this.#schedule();
  };

  /**
   * A batch of one item, through its single call: one reaction settles it and frees its place,
   * no async function and no `finally` (their promises cost a lone write more than the rest of
   * this path).
   */
  #sendOne(p: Pending<T, V>): void {
    let answer: Promise<V>;
    try {
      answer = this.#target.one(p.item);
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (value) => {
        p.sink.ok(p.index, value);
        this.#sent();
      },
      (error: unknown) => {
        p.sink.fail(p.index, error);
        this.#sent();
      },
    );
  }

  /** Where a full batch ends: at most {@link MAX_BATCH_WRITES} writes, never inside a group. */
  #cut(): number {
    let size = MAX_BATCH_WRITES;
    const group = this.#queue[size]?.group ?? 0;
    if (group !== 0) while (size > 0 && this.#queue[size - 1]?.group === group) size--;
    return size > 0 ? size : MAX_BATCH_WRITES;
  }

  /** A batch of more than one item, through the batch call. */
  async #send(batch: readonly Pending<T, V>[]): Promise<void> {
    let outcomes: Outcome<V>[];
    try {
      outcomes = await this.#target.many(batch.map((p) => p.item));
    } catch (error) {
      for (const p of batch) p.sink.fail(p.index, error);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending<T, V>;
      const outcome = outcomes[i];
      if (!outcome)
        p.sink.fail(
          p.index,
          new StoreUnavailableError(
            this.#target.name,
            `a batch of ${batch.length} writes answered ${outcomes.length}`,
          ),
        );
      else if (outcome.ok) p.sink.ok(p.index, outcome.value);
      else p.sink.fail(p.index, outcome.error);
    }
  }
}
