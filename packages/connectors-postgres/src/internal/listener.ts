/**
 * The LISTEN side of the service: one dedicated connection that listens on
 * the channels of every queue in this process, wakes their subscribers on a
 * NOTIFY, and is re-established with backoff when it drops (after which
 * every subscriber is woken once: a NOTIFY may have been missed meanwhile).
 *
 * @module
 */
import type { Logger } from '@ergon/core';
import type pg from 'pg';

/** A connection taken for listening, and how to give it up (destroyed: it is never reused). */
export interface ListenConnection {
  readonly client: pg.ClientBase;
  readonly release: () => void;
}

/** How the listener gets its connection. */
export interface ListenerConfig {
  /** A connection of its own (a pool's client, held for good). */
  readonly connect: () => Promise<ListenConnection>;
  readonly logger: Logger;
}

const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 2000;

/** One LISTEN connection shared by every queue of a service. */
export class Listener {
  readonly #config: ListenerConfig;
  readonly #subscribers = new Map<string, Set<() => void>>();
  #client: pg.ClientBase | undefined;
  #release: (() => void) | undefined;
  #connecting: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delay = FIRST_DELAY_MS;
  #closed = false;
  #lastError: Error | undefined;

  constructor(config: ListenerConfig) {
    this.#config = config;
  }

  /** True while the connection is up (or nothing needs it). */
  get healthy(): boolean {
    return this.#subscribers.size === 0 || this.#client !== undefined;
  }

  /** Why it is down, when it is. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** Calls `wake` on every NOTIFY of `channel` (and after every reconnect) until the returned function is called. */
  async subscribe(channel: string, wake: () => void): Promise<() => void> {
    let set = this.#subscribers.get(channel);
    const fresh = !set;
    if (!set) {
      set = new Set();
      this.#subscribers.set(channel, set);
    }
    set.add(wake);
    if (!this.#client) await this.#connect();
    else if (fresh) await this.#client.query(`LISTEN "${channel}"`);
    return () => {
      set.delete(wake);
      if (set.size === 0 && this.#subscribers.get(channel) === set) {
        this.#subscribers.delete(channel);
        this.#client?.query(`UNLISTEN "${channel}"`).catch(() => undefined);
      }
    };
  }

  /** Ends the connection and every reconnect. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    const release = this.#release;
    this.#client = undefined;
    this.#release = undefined;
    this.#subscribers.clear();
    if (client) {
      await client.query('UNLISTEN *').catch(() => undefined);
      release?.();
    }
  }

  #connect(): Promise<void> {
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #open(): Promise<void> {
    let taken: ListenConnection;
    try {
      taken = await this.#config.connect();
    } catch (error) {
      this.#lastError = error as Error;
      this.#retry();
      throw error;
    }
    const { client, release } = taken;
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('the LISTEN connection ended')));
    client.on('notification', (message) => this.#wake(message.channel));
    try {
      for (const channel of this.#subscribers.keys()) await client.query(`LISTEN "${channel}"`);
    } catch (error) {
      release();
      this.#lastError = error as Error;
      this.#retry();
      throw error;
    }
    if (this.#closed) {
      release();
      return;
    }
    this.#client = client;
    this.#release = release;
    this.#delay = FIRST_DELAY_MS;
    this.#lastError = undefined;
  }

  #lost(client: pg.ClientBase, error: Error): void {
    if (this.#client !== client) return;
    const release = this.#release;
    this.#client = undefined;
    this.#release = undefined;
    this.#lastError = error;
    release?.();
    this.#config.logger.warn('postgres: the LISTEN connection was lost; reconnecting', {
      error: error.message,
    });
    this.#retry();
  }

  #retry(): void {
    if (this.#closed || this.#timer || this.#subscribers.size === 0) return;
    const delay = this.#delay;
    this.#delay = Math.min(MAX_DELAY_MS, this.#delay * 2);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect().then(
        // Anything may have been notified while nobody listened: every queue looks once.
        () => {
          for (const channel of this.#subscribers.keys()) this.#wake(channel);
        },
        () => undefined,
      );
    }, delay);
    this.#timer.unref();
  }

  #wake(channel: string): void {
    for (const wake of this.#subscribers.get(channel) ?? []) wake();
  }
}
