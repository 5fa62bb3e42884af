/**
 * Pull requests of one connector: at most one open at a time, each asking
 * for no more messages than the connector has room for (its in-flight
 * bound), each waiting on the server up to its expiry (a long poll, not a
 * polling loop). Messages go to `onMessage` as they arrive; what a request
 * still owes counts against the room until it ends (filled or expired).
 *
 * @module
 */
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';

/** What the puller reports to its connector. */
export interface PullerEvents {
  /** A delivered message. */
  readonly onMessage: (message: JsMsg) => void;
  /** The open request ended (filled, expired, failed): room may have changed. */
  readonly onEnd: (error?: unknown) => void;
}

/** One connector's pull requests on its durable consumer. */
export class Puller {
  readonly #consumer: () => Promise<Consumer>;
  readonly #expiresMs: number;
  readonly #events: PullerEvents;
  #open: ConsumerMessages | undefined;
  #opening: Promise<void> | undefined;
  #owed = 0;
  #ended: Promise<void> | undefined;

  constructor(consumer: () => Promise<Consumer>, expiresMs: number, events: PullerEvents) {
    this.#consumer = consumer;
    this.#expiresMs = Math.min(5000, Math.max(1000, expiresMs)); // the client's floor for an expiry is 1 s
    this.#events = events;
  }

  /** Messages asked for by the open request and not delivered yet. */
  get owed(): number {
    return this.#owed;
  }

  /** True while a request is open (or being opened). */
  get open(): boolean {
    return this.#open !== undefined || this.#opening !== undefined;
  }

  /**
   * Opens a request for `batch` messages unless one is open.
   * @throws what looking up the consumer throws (`CONNECTOR_ERROR`).
   */
  pull(batch: number): Promise<void> {
    if (this.open || batch < 1) return this.#opening ?? Promise.resolve();
    this.#owed = batch;
    this.#opening = (async () => {
      try {
        const messages = await (await this.#consumer()).fetch({
          max_messages: batch,
          expires: this.#expiresMs,
        });
        this.#open = messages;
        this.#ended = this.#drain(messages);
      } catch (error) {
        this.#owed = 0;
        throw error;
      } finally {
        this.#opening = undefined;
      }
    })();
    return this.#opening;
  }

  /**
   * Waits for the open request to end (at most its expiry), then ends it
   * on this side. The server cannot be told to cancel a pull request: one
   * left open would swallow what is given back (`nak`) until the ack wait.
   */
  async end(): Promise<void> {
    await this.#opening?.catch(() => undefined);
    const open = this.#open;
    if (!open) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#ended,
      new Promise((resolve) => (timer = setTimeout(resolve, this.#expiresMs + 1000))),
    ]);
    clearTimeout(timer);
    open.stop();
  }

  async #drain(messages: ConsumerMessages): Promise<void> {
    let failure: unknown;
    try {
      for await (const message of messages) {
        this.#owed = Math.max(0, this.#owed - 1);
        this.#events.onMessage(message);
      }
    } catch (error) {
      failure = error;
    } finally {
      if (this.#open === messages) {
        this.#open = undefined;
        this.#owed = 0;
      }
      this.#events.onEnd(failure);
    }
  }
}
