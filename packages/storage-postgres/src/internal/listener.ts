/**
 * The LISTEN side of the store: one connection that listens on the schema's
 * channel from `start()` (the store's open) until `close()`, turns each NOTIFY into
 * a store event for every listener (a NOTIFY heard while there is none is not
 * read at all), and is re-established with backoff when
 * it drops. After a reconnect every queue this store has heard of gets one
 * `ready` event: a NOTIFY may have been missed meanwhile. A `handed` event
 * carries its claim only to the listeners of the store whose claim parked
 * the worker (core's contract); elsewhere it only says that the flow runs.
 *
 * @module
 */
import type { Logger, StoreEvent, StoreListener } from '@ergon/core';
import { decodePayload } from './events.js';

/** A connection taken for listening, and how to give it up (it is never reused). */
export interface ListenConnection {
  readonly client: {
    query(text: string): Promise<unknown>;
    on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
    on(event: 'error', listener: (error: Error) => void): unknown;
    on(event: 'end', listener: () => void): unknown;
  };
  readonly release: () => void;
}

/** How the listener gets its connection. */
export interface ListenerConfig {
  readonly channel: string;
  readonly connect: () => Promise<ListenConnection>;
  readonly logger: Logger;
}

const FIRST_DELAY_MS = 20;
const MAX_DELAY_MS = 2000;
/** Queues remembered for the catch-up after a reconnect. */
const MAX_QUEUES = 1000;
/** Workers remembered as parked through this store; past it, the longest known are forgotten. */
const MAX_WORKERS = 1000;

/** One LISTEN connection for every subscriber of a store. */
export class EventListener {
  readonly #config: ListenerConfig;
  readonly #listeners = new Set<StoreListener>();
  readonly #queues = new Set<string>();
  /**
   * The workers a claim through this store asked to park (`hand-off.ts`), from before that claim
   * is sent until `removeWorker`: a create may hand such a worker a flow, and its NOTIFY may come
   * before the claim's reply (or after a later claim unparked it), so the mark is not left to the
   * reply.
   */
  readonly #parked = new Set<string>();
  #connection: ListenConnection | undefined;
  #connecting: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delay = FIRST_DELAY_MS;
  #closed = false;
  #connectedBefore = false;

  constructor(config: ListenerConfig) {
    this.#config = config;
  }

  /** Opens the connection and LISTENs. @throws the driver's error when either fails. */
  async start(): Promise<void> {
    if (this.#connection || this.#closed) return;
    await this.#attach(await this.#config.connect());
  }

  /** Delivers every event to `listener` until the returned function is called. */
  listen(listener: StoreListener): () => void {
    this.#listeners.add(listener);
    if (!this.#connection && !this.#closed) this.#connect();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Remembers a queue, so a reconnect tells its workers to look. */
  noteQueue(queue: string): void {
    if (this.#queues.size < MAX_QUEUES) this.#queues.add(queue);
  }

  /** A claim of `workerId` that asks to park is about to be sent through this store. */
  parking(workerId: string): void {
    this.#parked.add(workerId);
    // Workers that come and go without `removeWorker` (ids of killed ones): keep the newest.
    if (this.#parked.size > MAX_WORKERS) this.#parked.delete(this.#parked.values().next().value as string);
  }

  /** `workerId` left the registry (`removeWorker`): it is parked no more. */
  unparked(workerId: string): void {
    this.#parked.delete(workerId);
  }

  /** Ends the connection and every reconnect. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#listeners.clear();
    await this.#connecting?.catch(() => undefined);
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection) {
      await connection.client.query('UNLISTEN *').catch(() => undefined);
      connection.release();
    }
  }

  #connect(): void {
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
  }

  async #open(): Promise<void> {
    try {
      await this.#attach(await this.#config.connect());
    } catch (error) {
      this.#config.logger.warn('postgres: cannot LISTEN; retrying', { error: (error as Error).message });
      this.#retry();
    }
  }

  /** LISTENs on `connection` and makes it the current one. @throws when LISTEN fails (the connection is released). */
  async #attach(connection: ListenConnection): Promise<void> {
    const { channel } = this.#config;
    const { client } = connection;
    client.on('error', (error) => this.#lost(connection, error));
    client.on('end', () => this.#lost(connection, new Error('the LISTEN connection ended')));
    client.on('notification', (message) => {
      // Nobody to tell (a client that waits for no result hears every flow's end): not even parsed.
      if (message.channel !== channel || this.#listeners.size === 0) return;
      for (const event of decodePayload(message.payload)) this.#deliver(event);
    });
    try {
      await client.query(`LISTEN "${channel}"`);
    } catch (error) {
      connection.release();
      throw error;
    }
    if (this.#closed) {
      connection.release();
      return;
    }
    const reconnected = this.#connectedBefore;
    this.#connectedBefore = true;
    this.#connection = connection;
    this.#delay = FIRST_DELAY_MS;
    // Anything may have been notified while nobody listened: every known queue looks once.
    if (reconnected) for (const queue of this.#queues) this.#deliver({ type: 'ready', queue });
  }

  #lost(connection: ListenConnection, error: Error): void {
    if (this.#connection !== connection) return;
    this.#connection = undefined;
    connection.release();
    this.#config.logger.warn('postgres: the LISTEN connection was lost; reconnecting', {
      error: error.message,
    });
    this.#retry();
  }

  #retry(): void {
    if (this.#closed || this.#timer) return;
    const delay = this.#delay;
    this.#delay = Math.min(MAX_DELAY_MS, this.#delay * 2);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect();
    }, delay);
    this.#timer.unref();
  }

  #deliver(received: StoreEvent): void {
    let event = received;
    if (event.type === 'ready') this.noteQueue(event.queue);
    else if (event.type === 'handed' && event.claimed && !this.#parked.has(event.workerId))
      event = { type: 'handed', flowId: event.flowId, workerId: event.workerId };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // The runtime wrapper isolates and reports listeners; a bare one must not stop the others.
      }
    }
  }
}
