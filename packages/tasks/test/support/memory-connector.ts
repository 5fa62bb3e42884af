import {
  type Connector,
  createTransaction,
  type FetchOptions,
  type NackOptions,
  type Transaction,
} from '@ergon/core';

/** One thing that happened, in order: handler calls and settlements. */
export type Event = readonly [what: string, id: string];

/**
 * An in-memory queue connector for tests: fetch takes from the front, ack
 * forgets, nack requeues (to the back) or dead-letters. Records everything.
 */
export class MemoryConnector<P = unknown> implements Connector<P, P> {
  readonly name: string;
  readonly queue: Transaction<P>[] = [];
  readonly inFlight = new Map<string, Transaction<P>>();
  readonly acked: string[] = [];
  readonly requeued: string[] = [];
  readonly deadLettered: { id: string; reason: unknown }[] = [];
  readonly dispatched: Transaction<P>[] = [];
  readonly events: Event[];
  fetches = 0;
  #pushed = 0;
  readonly #all = new Map<string, Transaction<P>>();
  failFetches = 0;
  failDispatches = 0;

  constructor(options: { name?: string; events?: Event[] } = {}) {
    this.name = options.name ?? 'memory';
    this.events = options.events ?? [];
  }

  /** Adds transactions with ids `t1`, `t2`, ... (or the given ones). */
  push(...payloads: P[]): Transaction<P>[] {
    const txs = payloads.map((payload) => createTransaction({ id: `t${++this.#pushed}`, payload }));
    this.queue.push(...txs);
    for (const tx of txs) this.#all.set(tx.id, tx);
    return txs;
  }

  /** Every transaction ever pushed, by id, whatever became of it. */
  async findTransaction(id: string): Promise<Transaction<P> | undefined> {
    this.events.push(['find', id]);
    return this.#all.get(id);
  }

  async fetchTransactions(options: FetchOptions): Promise<Transaction<P>[]> {
    this.fetches++;
    if (this.failFetches > 0) {
      this.failFetches--;
      throw new Error('fetch failed');
    }
    const out = this.queue.splice(0, options.limit);
    for (const tx of out) this.inFlight.set(tx.id, tx);
    return out;
  }

  async dispatchTransactions(transactions: readonly Transaction<P>[]): Promise<void> {
    if (this.failDispatches > 0) {
      this.failDispatches--;
      throw new Error('dispatch failed');
    }
    for (const tx of transactions) this.events.push(['dispatch', tx.id]);
    this.dispatched.push(...transactions);
  }

  async ack(transaction: Transaction<P>): Promise<void> {
    this.inFlight.delete(transaction.id);
    this.acked.push(transaction.id);
    this.events.push(['ack', transaction.id]);
  }

  async nack(transaction: Transaction<P>, options: NackOptions): Promise<void> {
    this.inFlight.delete(transaction.id);
    if (options.requeue) {
      this.requeued.push(transaction.id);
      this.queue.push(transaction);
      this.events.push(['requeue', transaction.id]);
    } else {
      this.deadLettered.push({ id: transaction.id, reason: options.reason });
      this.events.push(['dead-letter', transaction.id]);
    }
  }
}
