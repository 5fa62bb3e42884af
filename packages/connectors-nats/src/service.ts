/**
 * The protocol side of the NATS connector (DESIGN §3): one connection that
 * reconnects by itself, a JetStream client for acknowledged publishes and
 * pull consumers, the streams and the durable consumer declared from the
 * options, health from the connection's status. Knows nothing of
 * transactions; {@link NatsConnector} does.
 *
 * @module
 */
import { ErgonError, ErrorCode, type HealthStatus, type Service } from '@ergon/core';
import {
  type Consumer,
  type ConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type StoredMsg,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { redactUrl, toConnectorError } from './errors.js';
import { declareTopology } from './internal/topology.js';
import type { OutgoingMessage } from './messages.js';
import { type NatsServiceOptions, type ResolvedNatsOptions, resolveNatsOptions } from './options.js';

type State = 'stopped' | 'connecting' | 'connected' | 'reconnecting';

interface Live {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

/** A NATS connection with JetStream: acknowledged publishes, the durable pull consumer, reconnection. */
export class NatsService implements Service {
  /** Stable name, `nats:<stream>` by default. */
  readonly name: string;
  /** The resolved options. */
  readonly options: ResolvedNatsOptions;
  #state: State = 'stopped';
  #live: Live | undefined;
  #starting: Promise<Live> | undefined;
  #stopping: Promise<void> | undefined;
  #consumer: Promise<Consumer> | undefined;
  #flushing: Promise<void> | undefined;
  #lastError: string | undefined;
  #disconnects = 0;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: NatsServiceOptions) {
    this.options = resolveNatsOptions(options);
    this.name = this.options.name;
  }

  /** How many times the connection was lost since the start (tests wait on it). */
  get disconnects(): number {
    return this.#disconnects;
  }

  /** Connects, declares the streams and the consumer. Idempotent. */
  async start(signal?: AbortSignal): Promise<void> {
    await this.#connected(signal);
  }

  /** Flushes what was written (acks included) and closes the connection. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  /** Healthy while connected. */
  async health(): Promise<HealthStatus> {
    const url = redactUrl(this.options.url);
    if (this.#state === 'connected') return { healthy: true };
    if (this.#state === 'reconnecting')
      return {
        healthy: false,
        detail: `connection to ${url} lost (${this.#lastError ?? 'unknown'}); reconnecting`,
      };
    return { healthy: false, detail: this.#state === 'connecting' ? `connecting to ${url}` : 'not started' };
  }

  /** The durable pull consumer (looked up once per connection). */
  async consumer(): Promise<Consumer> {
    const live = await this.#connected();
    this.#consumer ??= live.js.consumers
      .get(this.options.stream, this.options.consumer)
      .catch((error: unknown) => {
        this.#consumer = undefined;
        throw toConnectorError(error, `looking up consumer ${this.options.consumer}`, this.options.url);
      });
    return this.#consumer;
  }

  /** The consumer's counts (`num_pending`: not yet delivered; `num_ack_pending`: delivered, unacked). */
  async consumerInfo(): Promise<ConsumerInfo> {
    const live = await this.#connected();
    try {
      return await live.jsm.consumers.info(this.options.stream, this.options.consumer);
    } catch (error) {
      throw toConnectorError(error, 'reading consumer info', this.options.url);
    }
  }

  /**
   * Publishes every message to `subject` (default the service's) and
   * resolves once the stream acknowledged each (stored, or dropped as a
   * duplicate of a message id it already holds).
   *
   * @throws ErgonError `CONNECTOR_ERROR` when a publish is refused or not acknowledged in time.
   */
  async publish(
    messages: readonly OutgoingMessage[],
    options: { subject?: string; signal?: AbortSignal } = {},
  ) {
    if (messages.length === 0) return;
    const { js } = await this.#connected(options.signal);
    const subject = options.subject ?? this.options.subject;
    const timeout = this.options.publishTimeoutMs;
    const results = await Promise.allSettled(
      messages.map((m) => js.publish(subject, m.data, { msgID: m.id, headers: m.headers, timeout })),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw toConnectorError(failed.reason, `publishing to ${subject}`, this.options.url);
  }

  /**
   * Resolves once the server has read everything written so far (one
   * PING/PONG shared by every caller of the same turn of the event loop).
   */
  flush(): Promise<void> {
    this.#flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      this.#flushing = undefined;
      const live = this.#live;
      if (!live) throw new ErgonError(ErrorCode.CONNECTOR_ERROR, 'nats: not connected; start the connector');
      try {
        await live.nc.flush();
      } catch (error) {
        throw toConnectorError(error, 'flushing', this.options.url);
      }
    });
    return this.#flushing;
  }

  /** Up to `limit` messages of the dead-letter stream, oldest first, read without removing them. */
  async readDeadLetters(limit = 1000): Promise<StoredMsg[]> {
    const { jsm } = await this.#connected();
    const stream = this.options.deadLetterStream;
    try {
      const { state } = await jsm.streams.info(stream);
      const out: StoredMsg[] = [];
      for (
        let seq = state.first_seq;
        seq <= state.last_seq && out.length < limit && state.messages > 0;
        seq++
      ) {
        const stored = await jsm.streams.getMessage(stream, { seq });
        if (stored) out.push(stored);
      }
      return out;
    } catch (error) {
      throw toConnectorError(error, `reading ${stream}`, this.options.url);
    }
  }

  async #connected(signal?: AbortSignal): Promise<Live> {
    if (this.#stopping) await this.#stopping;
    if (this.#live && this.#state !== 'stopped') return this.#live;
    if (!this.#starting) {
      this.#state = 'connecting';
      this.#starting = this.#open().catch((error: unknown) => {
        this.#state = 'stopped';
        this.#starting = undefined;
        throw toConnectorError(error, 'connecting', this.options.url);
      });
    }
    return untilAborted(this.#starting, signal);
  }

  async #open(): Promise<Live> {
    const { url, connectionName, reconnectWaitMs, publishTimeoutMs } = this.options;
    const nc = await connect({
      servers: url,
      name: connectionName,
      maxReconnectAttempts: -1,
      reconnectTimeWait: reconnectWaitMs,
      reconnectJitter: Math.ceil(reconnectWaitMs / 5),
      timeout: publishTimeoutMs,
    });
    try {
      const jsm = await jetstreamManager(nc, { timeout: publishTimeoutMs });
      if (this.options.declare) await declareTopology(jsm, this.options);
      const live = { nc, js: jetstream(nc, { timeout: publishTimeoutMs }), jsm };
      this.#watch(nc);
      this.#live = live;
      this.#state = 'connected';
      return live;
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw error;
    }
  }

  #watch(nc: NatsConnection): void {
    void (async () => {
      for await (const status of nc.status()) {
        if (this.#live?.nc !== nc) return;
        if (status.type === 'disconnect') {
          this.#disconnects++;
          this.#lastError = `disconnected from ${status.server}`;
          this.#state = 'reconnecting';
        } else if (status.type === 'reconnect') this.#state = 'connected';
        else if (status.type === 'error') this.#lastError = status.error.message;
      }
    })().catch(() => undefined);
  }

  async #stop(): Promise<void> {
    const live = await this.#starting?.catch(() => undefined);
    this.#state = 'stopped';
    this.#live = undefined;
    this.#starting = undefined;
    this.#consumer = undefined;
    if (!live) return;
    // Acks and naks already written reach the server before the close (not waiting out a dead server).
    await Promise.race([
      live.nc.flush().catch(() => undefined),
      new Promise((r) => setTimeout(r, 2000).unref()),
    ]);
    await live.nc.close().catch(() => undefined);
  }
}

function untilAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () =>
      reject(new ErgonError(ErrorCode.ABORTED, 'nats: start was aborted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
