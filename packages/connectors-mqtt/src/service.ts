/**
 * The protocol side of the MQTT connector (DESIGN §3): one MQTT 5 client with
 * a persistent session (clean start off, a session expiry), the group's
 * shared subscription at QoS 1, PUBACKs sent when the connector settles (not
 * on receipt), publishes at QoS 1 awaiting PUBACK, reconnection. This file
 * holds the session's lifecycle; making the client, receiving, confirming
 * and publishing live in `internal/`. Knows nothing of transactions;
 * {@link MqttConnector} does.
 *
 * @module
 */
import { ErgonError, ErrorCode, type HealthStatus, type Service } from '@ergon/core';
import type { MqttClient } from 'mqtt';
import { redactUrl, toConnectorError } from './errors.js';
import { createClient, endClient, firstConnect, subscribeGroup } from './internal/client.js';
import { Confirmer } from './internal/confirm.js';
import { Pubacks } from './internal/pubacks.js';
import { publishAll } from './internal/publish.js';
import { receiveDeferred } from './internal/receive.js';
import type { IncomingMessage, OutgoingMessage } from './messages.js';
import { type MqttServiceOptions, type ResolvedMqttOptions, resolveMqttOptions } from './options.js';

/** A QoS 1 message the broker sent and waits a PUBACK for. */
export interface Delivery {
  /** The packet id: what the PUBACK names (reused by the broker once acked). */
  readonly packetId: number;
  /** The session it belongs to (see {@link MqttService.session}). */
  readonly session: number;
  /** The message as received (topic, payload, properties). */
  readonly message: IncomingMessage;
}

type State = 'stopped' | 'connecting' | 'connected' | 'reconnecting' | 'taken-over';

const SESSION_TAKEN_OVER = 142;

/** An MQTT 5 client on a persistent session, with the group's shared subscription. */
export class MqttService implements Service {
  /** Stable name, `mqtt:<topic>` by default. */
  readonly name: string;
  /** The resolved options. */
  readonly options: ResolvedMqttOptions;
  #state: State = 'stopped';
  #client: MqttClient | undefined;
  #confirmer: Confirmer | undefined;
  #pubacks: Pubacks | undefined;
  #starting: Promise<MqttClient> | undefined;
  #stopping: Promise<void> | undefined;
  #onDelivery: ((delivery: Delivery) => void) | undefined;
  #session = 0;
  #disconnects = 0;
  #lastError: string | undefined;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: MqttServiceOptions) {
    this.options = resolveMqttOptions(options);
    this.name = this.options.name;
  }

  /** Increments when the broker starts a new session (none was kept): deliveries of an older one can no longer be acked. */
  get session(): number {
    return this.#session;
  }

  /** How many times the connection was lost since the start (tests wait on it). */
  get disconnects(): number {
    return this.#disconnects;
  }

  /** Where deliveries go (the connector). Set before `start`: the broker sends at once what the session holds. */
  onDelivery(handler: ((delivery: Delivery) => void) | undefined): void {
    this.#onDelivery = handler;
  }

  /** Connects (resuming the session) and, for a consumer, subscribes the group. Idempotent. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.#stopping) await this.#stopping;
    if (this.#client && this.#state !== 'stopped') return;
    this.#starting ??= this.#open().catch((error: unknown) => {
      this.#state = 'stopped';
      this.#starting = undefined;
      throw toConnectorError(error, 'connecting', this.options.url);
    });
    await untilAborted(this.#starting, signal);
  }

  /**
   * Disconnects; the broker keeps the session (and every message not yet
   * acked) for `sessionExpiry`, for the next client with this id.
   * `endSession: true` asks the broker to drop the session (and what it holds). Idempotent.
   */
  stop(options: { endSession?: boolean } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.endSession ?? false).finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  /** Healthy while connected. */
  async health(): Promise<HealthStatus> {
    const url = redactUrl(this.options.url);
    switch (this.#state) {
      case 'connected':
        return { healthy: true };
      case 'reconnecting':
        return {
          healthy: false,
          detail: `connection to ${url} lost (${this.#lastError ?? 'unknown'}); reconnecting`,
        };
      case 'taken-over':
        return {
          healthy: false,
          detail: `another client connected to ${url} as ${this.options.clientId} and took the session over`,
        };
      case 'connecting':
        return { healthy: false, detail: `connecting to ${url}` };
      default:
        return { healthy: false, detail: 'not started' };
    }
  }

  /**
   * Sends the PUBACK of a delivery; resolves once written. The PUBACKs of
   * one turn of the event loop are written together and share the promise
   * (see `internal/pubacks.ts`). The broker's reading of them is confirmed
   * in the background (see `internal/confirm.ts`): one it may have missed is
   * sent again if the broker resends the message.
   * @throws ErgonError `CONNECTOR_ERROR` when its session is gone (the broker started a new one).
   */
  puback(delivery: Delivery, action: string): Promise<void> {
    const pubacks = this.#pubacks;
    if (!pubacks || delivery.session !== this.#session) {
      return Promise.reject(
        new ErgonError(
          ErrorCode.CONNECTOR_ERROR,
          `mqtt: ${action} failed: the session that received the message is gone (stopped, or expired on the broker)`,
          { details: { action, stale: true } },
        ),
      );
    }
    return pubacks.send(delivery.packetId, delivery.message);
  }

  /**
   * Publishes every message at QoS 1 to `topic` (default the service's) and
   * resolves once the broker answered each PUBACK with success. Waits out a
   * reconnect, `timeout` at most.
   *
   * @throws ErgonError `CONNECTOR_ERROR` when the broker refuses one (a reason code ≥ 0x80) or does not answer in time.
   */
  async publish(messages: readonly OutgoingMessage[], options: { topic?: string } = {}): Promise<void> {
    if (messages.length === 0) return;
    await this.start();
    const client = this.#client as MqttClient;
    const topic = options.topic ?? this.options.topic;
    try {
      await publishAll(client, topic, messages, this.options.timeoutMs);
    } catch (error) {
      throw toConnectorError(error, `publishing to ${topic}`, this.options.url);
    }
  }

  async #open(): Promise<MqttClient> {
    const o = this.options;
    this.#state = 'connecting';
    const client = createClient(o);
    const confirmer = new Confirmer(client);
    receiveDeferred({
      client,
      confirmer,
      deliver: (packetId, message) => this.#onDelivery?.({ packetId, session: this.#session, message }),
      yieldEvery: o.receiveMaximum,
    });
    client.on('connect', (connack) => {
      // PUBACKs and the PINGREQ that confirms them are small writes awaiting an answer: no Nagle delay.
      (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
      if (!connack.sessionPresent) this.#session++;
      if (this.#client !== client) return; // the first connect: #open subscribes
      // Subscribe again on every reconnect (Mosquitto 2.0 restores a persisted session
      // without its shared subscriptions); healthy once subscribed.
      const subscribed = o.group === undefined ? Promise.resolve() : this.#subscribe(client);
      subscribed.then(
        () => {
          if (this.#state === 'reconnecting') this.#state = 'connected';
        },
        (error: unknown) => {
          this.#lastError = `subscribing again failed: ${(error as Error).message}`;
        },
      );
    });
    client.on('close', () => {
      if (this.#state === 'connected') {
        this.#state = 'reconnecting';
        this.#disconnects++;
      }
    });
    client.on('error', (error) => {
      this.#lastError = error.message;
    });
    client.on('disconnect', (packet) => {
      this.#lastError = `the broker disconnected (reason ${packet.reasonCode ?? 0})`;
      if (packet.reasonCode === SESSION_TAKEN_OVER) {
        // Reconnecting would take the session back and forth with the other client.
        this.#state = 'taken-over';
        client.end(true);
      }
    });
    try {
      await firstConnect(client);
      if (o.group !== undefined) await this.#subscribe(client);
    } catch (error) {
      client.end(true);
      throw error;
    }
    this.#client = client;
    this.#confirmer = confirmer;
    this.#pubacks = new Pubacks({
      client,
      confirmer,
      toError: (error) => toConnectorError(error, 'acknowledging (PUBACK)', o.url),
    });
    this.#state = 'connected';
    return client;
  }

  #subscribe(client: MqttClient): Promise<void> {
    return subscribeGroup(client, this.options.group as string, this.options.topic);
  }

  async #stop(endSession: boolean): Promise<void> {
    const client = await this.#starting?.catch(() => undefined);
    this.#state = 'stopped';
    this.#client = undefined;
    this.#pubacks = undefined;
    this.#starting = undefined;
    if (!client) return;
    const confirmer = this.#confirmer;
    this.#confirmer = undefined;
    await endClient(client, confirmer, endSession);
  }
}

function untilAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () =>
      reject(new ErgonError(ErrorCode.ABORTED, 'mqtt: start was aborted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
