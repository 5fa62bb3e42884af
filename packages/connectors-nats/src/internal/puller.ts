/**
 * Pull requests of one connector. Each asks for no more messages than the
 * connector has room for (its in-flight bound, counting what open requests
 * still owe), and waits on the server up to its expiry (a long poll, not a
 * polling loop). Several may be open at once, so the next messages are on
 * their way while the connector works on the last ones, as a continuous
 * consumer would; a new one is opened only for a worthwhile share of the
 * room (a quarter of the bound), or when none is open. Messages go to
 * `onMessage` as they arrive.
 *
 * @module
 */
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';

/** What the puller reports to its connector. */
export interface PullerEvents {
  /** A delivered message. */
  readonly onMessage: (message: JsMsg) => void;
  /** A request ended (filled, expired, failed): room may have changed. */
  readonly onEnd: (error?: unknown) => void;
}

interface Request {
  owed: number;
  messages?: ConsumerMessages;
  ended?: Promise<void>;
}

/** One connector's pull requests on its durable consumer. */
export class Puller {
  readonly #consumer: () => Promise<Consumer>;
  readonly #expiresMs: number;
  readonly #minBatch: number;
  readonly #events: PullerEvents;
  readonly #requests = new Set<Request>();

  constructor(
    consumer: () => Promise<Consumer>,
    options: { expiresMs: number; maxInFlight: number },
    events: PullerEvents,
  ) {
    this.#consumer = consumer;
    this.#expiresMs = Math.min(5000, Math.max(1000, options.expiresMs)); // the client's floor for an expiry is 1 s
    this.#minBatch = Math.max(1, Math.floor(options.maxInFlight / 4));
    this.#events = events;
  }

  /** Messages asked for by open requests and not delivered yet. */
  get owed(): number {
    let owed = 0;
    for (const request of this.#requests) owed += request.owed;
    return owed;
  }

  /**
   * Opens a request for `room` messages when that is worth a request (or
   * none is open); resolves once it is sent.
   * @throws what looking up the consumer throws (`CONNECTOR_ERROR`).
   */
  async pull(room: number): Promise<void> {
    if (room < 1 || (this.#requests.size > 0 && room < this.#minBatch)) return;
    const request: Request = { owed: room };
    this.#requests.add(request);
    try {
      request.messages = await (await this.#consumer()).fetch({
        max_messages: room,
        expires: this.#expiresMs,
      });
      request.ended = this.#drain(request, request.messages);
    } catch (error) {
      this.#requests.delete(request);
      throw error;
    }
  }

  /**
   * Waits for the open requests to end (at most their expiry), then ends
   * them on this side. The server cannot be told to cancel a pull request:
   * one left open would swallow what is given back (`nak`) until the ack wait.
   */
  async end(): Promise<void> {
    const requests = [...this.#requests];
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise((resolve) => {
      timer = setTimeout(resolve, this.#expiresMs + 1000);
    });
    await Promise.race([Promise.all(requests.map((r) => r.ended)), cap]);
    clearTimeout(timer);
    for (const request of requests) request.messages?.stop();
  }

  async #drain(request: Request, messages: ConsumerMessages): Promise<void> {
    let failure: unknown;
    try {
      for await (const message of messages) {
        request.owed = Math.max(0, request.owed - 1);
        this.#events.onMessage(message);
      }
    } catch (error) {
      failure = error;
    } finally {
      this.#requests.delete(request);
      this.#events.onEnd(failure);
    }
  }
}
