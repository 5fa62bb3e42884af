/**
 * The protocol side of the Redis Streams connector (DESIGN §3): the
 * connections. One command connection (auto-pipelined) shared by every
 * connector on the service, and one blocking connection per consuming
 * connector (a connection blocked in `XREADGROUP` cannot serve acks). Both
 * reconnect on their own, with backoff.
 *
 * @module
 */
import { ErgonError, ErrorCode, type HealthStatus, type Service } from '@ergon/core';
import { Redis, type RedisOptions } from 'ioredis';
import { untilAborted, withTimeout } from './internal/async.js';
import { redactUrl, toConnectorError } from './internal/errors.js';
import { defineScripts } from './internal/scripts.js';
import {
  type RedisStreamsServiceOptions,
  type ResolvedServiceOptions,
  resolveServiceOptions,
} from './service-options.js';

/** Reconnect backoff: 50 ms doubling to at most 2 s, forever. */
function backoff(attempt: number): number {
  return Math.min(50 * 2 ** Math.max(0, attempt - 1), 2000);
}

/** A Redis connection shared by Redis Streams connectors. */
export class RedisStreamsService implements Service {
  /** Stable name, `redis-streams` by default. */
  readonly name: string;
  /** The resolved options. */
  readonly options: ResolvedServiceOptions;
  #client: Redis | undefined;
  #starting: Promise<void> | undefined;
  readonly #readers = new Set<Redis>();
  readonly #where: string;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: RedisStreamsServiceOptions = {}) {
    this.options = resolveServiceOptions(options);
    this.name = this.options.name;
    this.#where = this.options.redis ? 'the given client' : redactUrl(this.options.url);
  }

  /** Connects the command connection and waits until Redis answers. Idempotent; honours `signal`. */
  start(signal?: AbortSignal): Promise<void> {
    this.#starting ??= this.#start(signal).catch((error: unknown) => {
      this.#starting = undefined;
      if (!this.options.redis) this.#client?.disconnect();
      this.#client = undefined;
      throw toConnectorError(error, { action: 'connect to Redis', url: this.#where });
    });
    return this.#starting;
  }

  /** Closes every connection this service opened (never a client it was given). Idempotent. */
  async stop(): Promise<void> {
    const starting = this.#starting;
    if (!starting) return;
    this.#starting = undefined;
    await starting.catch(() => undefined);
    for (const reader of this.#readers) reader.disconnect();
    this.#readers.clear();
    const client = this.#client;
    this.#client = undefined;
    if (client && !this.options.redis) await close(client, this.options.commandTimeoutMs);
  }

  /** Healthy when every connection is up and Redis answers a PING in time. */
  async health(): Promise<HealthStatus> {
    const client = this.#client;
    if (!this.#starting || !client) return { healthy: false, detail: 'not started' };
    const connections: [string, Redis][] = [
      ['command', client],
      ...[...this.#readers].map((r): [string, Redis] => ['reader', r]),
    ];
    for (const [role, c] of connections) {
      if (c.status !== 'ready')
        return { healthy: false, detail: `redis ${role} connection to ${this.#where} is ${c.status}` };
    }
    try {
      await withTimeout(client.ping(), Math.min(1000, this.options.commandTimeoutMs));
      return { healthy: true };
    } catch (error) {
      return {
        healthy: false,
        detail: `redis at ${this.#where} does not answer: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  /**
   * The command connection (auto-pipelined: concurrent calls share socket
   * writes). Call {@link start} first.
   *
   * @throws ErgonError `CONNECTOR_ERROR` when the service is not started.
   */
  get client(): Redis {
    if (!this.#client) {
      throw new ErgonError(
        ErrorCode.CONNECTOR_ERROR,
        `redis streams service ${this.name} is not started: call start() first`,
      );
    }
    return this.#client;
  }

  /**
   * A new connection for blocking reads: no command timeout (a block is
   * long by design, bounded by a client-side safety net instead). A read
   * cut by a dropped connection is sent again once it is back; what the
   * lost reply had delivered stays pending for the consumer, who looks for
   * it after a reconnect. Closed by {@link closeBlockingClient} or by {@link stop}.
   */
  async openBlockingClient(role: string): Promise<Redis> {
    const command = this.client;
    const reader = command.duplicate({
      lazyConnect: true,
      // The command connection is ready, so Redis is not loading: no INFO first (a reconnect checks, below).
      enableReadyCheck: command.status !== 'ready',
      enableAutoPipelining: false,
      commandTimeout: undefined,
      blockingTimeout: this.options.commandTimeoutMs,
      blockingTimeoutGrace: this.options.commandTimeoutMs,
      maxRetriesPerRequest: null,
      retryStrategy: backoff,
      connectionName: `${this.options.connectionName}:${role}`,
    } as RedisOptions);
    this.#watch(reader, 'reader');
    this.#readers.add(reader);
    try {
      await withTimeout(
        // Resolves once the connection is ready (its ready check answered): no PING after it.
        reader.connect(),
        this.options.commandTimeoutMs,
      );
    } catch (error) {
      this.closeBlockingClient(reader);
      throw toConnectorError(error, { action: 'open a reading connection', url: this.#where });
    }
    // Reconnects wait for Redis to be ready (it may be loading its data after a restart).
    reader.options.enableReadyCheck = true;
    return reader;
  }

  /** Drops a connection made by {@link openBlockingClient} (a blocked read is cut short). */
  closeBlockingClient(reader: Redis): void {
    this.#readers.delete(reader);
    reader.disconnect();
  }

  async #start(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    const given = this.options.redis;
    const client = given ?? this.#create();
    // Before any call: an auto-pipeline made earlier would lack the script commands.
    defineScripts(client);
    this.#client = client;
    if (client.status === 'wait') client.connect().catch(() => undefined);
    // A connection made here is ready once its ready check (INFO) was answered, through
    // reconnects if the first attempt fails: that is Redis answering, without a PING a round
    // trip later. A given client is asked.
    const answered: Promise<unknown> = given ? client.ping() : whenReady(client);
    await untilAborted(withTimeout(answered, this.options.commandTimeoutMs), signal);
  }

  #create(): Redis {
    const { url, commandTimeoutMs, connectionName } = this.options;
    const client = new Redis(url, {
      lazyConnect: true,
      enableAutoPipelining: true,
      // The connector gathers a turn's acks into one XACK already: sent at once, not a turn later.
      autoPipeliningIgnoredCommands: ['xack'],
      connectionName,
      connectTimeout: Math.min(commandTimeoutMs, 5000),
      // Bounds every call, time queued while reconnecting included; a lost
      // connection fails calls after this, not after a count of retries.
      commandTimeout: commandTimeoutMs,
      maxRetriesPerRequest: null,
      retryStrategy: backoff,
      // A failover turned the node into a replica: reconnect and resend.
      reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    });
    this.#watch(client, 'command');
    return client;
  }

  /** Logs connection trouble once per outage, and the recovery, instead of once per retry. */
  #watch(client: Redis, role: string): void {
    const { logger } = this.options;
    let down = false;
    client.on('error', (error: Error) => {
      if (down) return;
      down = true;
      logger.warn(`redis ${role} connection to ${this.#where} lost; reconnecting`, { error: error.message });
    });
    client.on('ready', () => {
      if (!down) return;
      down = false;
      logger.info(`redis ${role} connection to ${this.#where} restored`);
    });
  }
}

/** Resolves once `client` is ready (at once if it is). */
function whenReady(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => client.once('ready', () => resolve()));
}

async function close(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'end') return;
  try {
    await withTimeout(client.quit(), timeoutMs);
  } catch {
    // Closed below anyway.
  }
  client.disconnect();
}
