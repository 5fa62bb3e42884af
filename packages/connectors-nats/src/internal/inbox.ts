/**
 * A connector's messages on this side: pulled and not handed out yet (the
 * buffer), handed out and not settled (held), and the pull requests that
 * bring more within the in-flight bound. Fetches wait here for arrivals;
 * settlements free places here.
 *
 * @module
 */
import { Waiters } from '@ergon/core';
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { toConnectorError } from '../errors.js';
import { Puller } from './puller.js';

/** What the inbox needs to know about its connector. */
export interface InboxOptions {
  /** The durable consumer to pull from. */
  readonly consumer: () => Promise<Consumer>;
  /** Most messages buffered, held and owed by open requests together. */
  readonly maxInFlight: number;
  /** The expiry of a pull request (the wait of a fetch with nothing buffered). */
  readonly fetchWaitMs: number;
  /** The server's URL, for errors. */
  readonly url: string;
}

/** Buffered and held messages, and the pulls that fill the buffer. */
export class Inbox {
  /** Pulled, not handed out yet (oldest first). */
  readonly buffer: JsMsg[] = [];
  /** Handed out (or being dead-lettered), not settled. */
  readonly held = new Set<JsMsg>();
  readonly #options: InboxOptions;
  readonly #puller: Puller;
  readonly #waiters = new Waiters();
  #pullError: unknown;
  #freeing = false;
  #stopping = false;

  constructor(options: InboxOptions) {
    this.#options = options;
    this.#puller = new Puller(
      options.consumer,
      { expiresMs: options.fetchWaitMs, maxInFlight: options.maxInFlight },
      {
        onMessage: (message) => {
          this.buffer.push(message); // while stopping too: given back with the rest
          this.#waiters.wake();
        },
        onEnd: (error) => {
          if (error !== undefined && !this.#stopping) this.#pullError = error;
          this.#waiters.wake();
        },
      },
    );
  }

  /** Whether a stop is under way: no pulls, waiting fetches return. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Starts (`false`) or stops (`true`) taking messages; a stop wakes every waiting fetch. */
  set stopping(stopping: boolean) {
    this.#stopping = stopping;
    if (stopping) this.#waiters.wake();
  }

  /**
   * Opens a pull request for the room left under the bound (when that is
   * worth one). A failed earlier request is reported here, except one that
   * ended on missed heartbeats (a dropped connection), which is pulled again.
   * @throws ErgonError `CONNECTOR_ERROR` for a failed request.
   */
  async pull(): Promise<void> {
    if (this.#pullError !== undefined) {
      const error = this.#pullError;
      this.#pullError = undefined;
      if (!/heartbeat/i.test(String((error as Error)?.message)))
        throw toConnectorError(error, 'pulling', this.#options.url);
    }
    await this.#puller.pull(
      this.#options.maxInFlight - this.held.size - this.buffer.length - this.#puller.owed,
    );
  }

  /** Messages sent together arrive a few at a time: waits for what comes within a moment of the first. */
  async restOfBurst(limit: number): Promise<void> {
    const until = Date.now() + 10;
    while (
      this.buffer.length > 0 &&
      this.buffer.length < limit &&
      this.#puller.owed > 0 &&
      Date.now() < until
    ) {
      const before = this.buffer.length;
      await this.arrival(2);
      if (this.buffer.length === before) return;
    }
  }

  /** Resolves on the next arrival, end of a request, freed place or stop; at the latest after `ms`, or on abort. */
  arrival(ms: number, signal?: AbortSignal): Promise<void> {
    return this.#waiters.next(ms, signal);
  }

  /**
   * A held message was settled: its place is free. Waiting fetches wake and
   * the next messages are pulled once per turn, after the turn's
   * settlements (a batch's acks free a batch's room for one request, not a
   * request each).
   */
  free(message: JsMsg): void {
    this.held.delete(message);
    if (this.#freeing) return;
    this.#freeing = true;
    setImmediate(() => {
      this.#freeing = false;
      this.#waiters.wake();
      if (!this.#stopping) void this.pull().catch(() => undefined);
    });
  }

  /** Tells the server that buffered and held messages are still being worked on (in-progress acks). */
  renew(): void {
    for (const message of [...this.buffer, ...this.held]) {
      try {
        message.working();
      } catch {
        // disconnected: renewed on the next round, or delivered again after the ack wait
      }
    }
  }

  /** Waits for the open pull requests to run out (at most their expiry), then ends them. */
  endPulls(): Promise<void> {
    return this.#puller.end();
  }

  /** Empties the buffer and the held set; returns what they had, to be given back. */
  drain(): JsMsg[] {
    const all = [...this.buffer.splice(0), ...this.held];
    this.held.clear();
    return all;
  }
}
