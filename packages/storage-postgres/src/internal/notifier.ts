/**
 * The NOTIFY side of the store. PostgreSQL serialises the commits of every
 * transaction that notifies, database-wide, and holds that lock through the
 * commit's WAL flush: changes that notified in their own transaction could
 * commit no faster than one disk flush at a time. So a change commits without
 * notifying (its commits group with others'), and its events go right after,
 * in a transaction of their own that only notifies and does not wait for the
 * flush (`synchronous_commit = off`: a notification needs no durability; one
 * lost with a crashed server costs a worker one poll). Events sent while one
 * such statement is in flight gather into the next, so a busy store sends a
 * few NOTIFY statements, not one per change, each packing its events into as few
 * payloads as fit (`events.ts`). An event is never sent before the
 * change it tells of has committed.
 *
 * Except when the store is idle: a change made while no NOTIFY is in flight or
 * waiting, and no other change notifies itself, may notify in its own
 * statement ({@link Notifier.takeInline}). A lone change holds the notify lock
 * through its flush with no one else waiting for it, and its listeners hear of
 * it a round trip sooner: what an idle worker waits for between an enqueue and
 * its claim. Under load the store is never idle and changes commit unnotified,
 * except a batch of writes that finishes many flows (or any, while nothing else
 * is being sent): it notifies them itself ({@link Notifier.takeInlineMany},
 * `batch-notify.ts`), a round trip per batch fewer.
 *
 * @module
 */
import type { Logger, StoreEvent } from '@ergon/core';
import { type Queryable, rows, type Statement } from './db.js';
import { encodeEvent, packEvents } from './events.js';

/** Most events per NOTIFY statement. */
const MAX_BATCH = 5000;

/**
 * Finished flows from which a batch notifies them itself while other events are being sent: a
 * round trip saved per batch is worth a commit behind the notify lock when it carries this many;
 * smaller batches' events gather in the notifier's next statement.
 */
const INLINE_BATCH = 16;

/** Sends events after their commit, coalesced. */
export class Notifier {
  readonly #on: Queryable;
  readonly #statement: Statement;
  readonly #channel: string;
  readonly #logger: Logger;
  #pending: string[] = [];
  #flushing: Promise<void> | undefined;
  #inline = false;
  /** Batches notifying their finished flows themselves now ({@link takeInlineMany}). */
  #inlineBatches = 0;

  constructor(config: { on: Queryable; statement: Statement; channel: string; logger: Logger }) {
    this.#on = config.on;
    this.#statement = config.statement;
    this.#channel = config.channel;
    this.#logger = config.logger;
  }

  /** The channel events go out on. */
  get channel(): string {
    return this.#channel;
  }

  /** Queues events of a committed change; they go out at once, or with the next batch. */
  send(events: readonly StoreEvent[]): void {
    if (events.length === 0) return;
    for (const event of events) this.#pending.push(encodeEvent(event));
    this.#flushing ??= this.#flush();
  }

  /**
   * The channel and payload of `event` for the caller to notify in its own statement, when nothing
   * else is being sent; undefined otherwise. The caller calls `done` when its statement has ended.
   */
  takeInline(event: StoreEvent): { channel: string; payload: string; done: () => void } | undefined {
    if (this.#inline || this.#inlineBatches > 0 || this.#flushing || this.#pending.length > 0)
      return undefined;
    this.#inline = true;
    const [payload] = packEvents([encodeEvent(event)]);
    return {
      channel: this.#channel,
      payload: payload as string,
      done: () => {
        this.#inline = false;
      },
    };
  }

  /**
   * The channel and payloads of `events` (a batch's finished flows) for the caller to notify in its
   * own transaction, when they are at least {@link INLINE_BATCH}, or nothing else is being sent or
   * notified by this store; undefined otherwise. The caller calls `done` when its statement has
   * ended, and sends the events with {@link send} when it did not notify them.
   */
  takeInlineMany(
    events: readonly StoreEvent[],
  ): { channel: string; payloads: string[]; done: () => void } | undefined {
    if (events.length === 0) return undefined;
    if (
      events.length < INLINE_BATCH &&
      (this.#inline || this.#inlineBatches > 0 || this.#flushing || this.#pending.length > 0)
    )
      return undefined;
    this.#inlineBatches++;
    let open = true;
    return {
      channel: this.#channel,
      payloads: packEvents(events.map(encodeEvent)),
      done: () => {
        if (open) this.#inlineBatches--;
        open = false;
      },
    };
  }

  /** Resolves once every queued event has been sent (or given up on). */
  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #flush(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const events = this.#pending.splice(0, MAX_BATCH);
        try {
          await rows(this.#on, this.#statement, { channel: this.#channel, payloads: packEvents(events) });
        } catch (error) {
          // Workers and result waiters poll as well: a lost wake-up delays, it does not lose work.
          this.#logger.warn('postgres: could not send store events; listeners fall back to polling', {
            error: (error as Error).message,
            events: events.length,
          });
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }
}
