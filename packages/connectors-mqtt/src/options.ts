/**
 * Options of the MQTT service, validated once and frozen.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { type Duration, ErrorCode, InvalidArgumentError, toMillis } from '@ergon/core';

/** Options of {@link MqttService}. */
export interface MqttServiceOptions {
  /** The broker, e.g. `mqtt://127.0.0.1:1883` (credentials as `mqtt://user:pass@host:port`). */
  readonly url: string;
  /** The topic dispatches are published to and consumers subscribe to (a literal topic: no `+` or `#`). */
  readonly topic: string;
  /**
   * The consumer group: with it the service subscribes `$share/<group>/<topic>`
   * at start (MQTT 5 shared subscription: the group's sessions split the
   * messages). Without it the service only publishes.
   */
  readonly group?: string;
  /**
   * The client id, which names the persistent session. A consumer needs one
   * that stays the same across restarts (a process slot, a pod ordinal): what
   * its session holds unacked is delivered again only to the same client id.
   * Default for a publisher: `ergon-<random>`.
   */
  readonly clientId?: string;
  /** Name for logs and dependency injection. Default `mqtt:<topic>`. */
  readonly name?: string;
  /** Where dead letters are published. Default `<topic>/dead-letter`. */
  readonly deadLetterTopic?: string;
  /** How long the broker keeps the session (its subscription and unacked messages) while disconnected. Default `'1d'`. */
  readonly sessionExpiry?: Duration;
  /** Most unacked messages the broker should send this client (MQTT 5 Receive Maximum). Default 64. */
  readonly receiveMaximum?: number;
  /** Keep-alive interval. Default `'30s'`. */
  readonly keepalive?: Duration;
  /** Pause between reconnect attempts. Default `'250ms'`. */
  readonly reconnectPeriod?: Duration;
  /** How long a connect or a publish waits for the broker's answer. Default `'10s'`. */
  readonly timeout?: Duration;
}

/** {@link MqttServiceOptions} with every default applied, durations in ms. */
export interface ResolvedMqttOptions {
  /** {@link MqttServiceOptions.url}, with its default applied. */
  readonly url: string;
  /** {@link MqttServiceOptions.topic}, with its default applied. */
  readonly topic: string;
  /** {@link MqttServiceOptions.group}, with its default applied. */
  readonly group: string | undefined;
  /** {@link MqttServiceOptions.clientId}, with its default applied. */
  readonly clientId: string;
  /** {@link MqttServiceOptions.name}, with its default applied. */
  readonly name: string;
  /** {@link MqttServiceOptions.deadLetterTopic}, with its default applied. */
  readonly deadLetterTopic: string;
  /** {@link MqttServiceOptions.sessionExpiry}, in ms, with its default applied. */
  readonly sessionExpiryMs: number;
  /** {@link MqttServiceOptions.receiveMaximum}, with its default applied. */
  readonly receiveMaximum: number;
  /** {@link MqttServiceOptions.keepalive}, in ms, with its default applied. */
  readonly keepaliveMs: number;
  /** {@link MqttServiceOptions.reconnectPeriod}, in ms, with its default applied. */
  readonly reconnectPeriodMs: number;
  /** {@link MqttServiceOptions.timeout}, in ms, with its default applied. */
  readonly timeoutMs: number;
}

/**
 * Validates and resolves service options.
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`, `INVALID_DURATION`) naming the bad option.
 */
export function resolveMqttOptions(options: MqttServiceOptions): ResolvedMqttOptions {
  const fail = (message: string): never => {
    throw new InvalidArgumentError(`mqtt service: ${message}`, { code: ErrorCode.INVALID_ARGUMENT });
  };
  if (typeof options !== 'object' || options === null) fail('options are required, e.g. { url, topic }');
  const text = (value: unknown, what: string): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '' || Buffer.byteLength(value) > 65_535)
      fail(`${what} must be a non-empty string`);
    return value as string;
  };
  const topicOf = (value: unknown, what: string): string | undefined => {
    const got = text(value, what);
    if (
      got !== undefined &&
      (/[+#]/.test(got) || got.includes(String.fromCharCode(0)) || got.startsWith('$share/'))
    )
      fail(`${what} must be a literal topic: no + or # wildcards (got ${got})`);
    return got;
  };
  const url = text(options.url, 'url') ?? fail('url is required, e.g. mqtt://127.0.0.1:1883');
  if (!/^(mqtts?|wss?):\/\//.test(url)) fail('url must start with mqtt://, mqtts://, ws:// or wss://');
  const topic = topicOf(options.topic, 'topic') ?? fail('topic is required');
  const group = text(options.group, 'group');
  if (group !== undefined && /[/+#]/.test(group)) fail(`group must not contain /, + or # (got ${group})`);
  const clientId = text(options.clientId, 'clientId');
  if (group !== undefined && clientId === undefined)
    fail(
      'a consumer (group set) needs a clientId that stays the same across restarts: its session keeps what it holds unacked for that id only',
    );
  const receiveMaximum = options.receiveMaximum ?? 64;
  if (!Number.isSafeInteger(receiveMaximum) || receiveMaximum < 1 || receiveMaximum > 65_535)
    fail(`receiveMaximum must be a whole number from 1 to 65535 (got ${String(receiveMaximum)})`);
  const sessionExpiryMs = toMillis(options.sessionExpiry ?? '1d', 'sessionExpiry');
  if (sessionExpiryMs < 1000)
    fail('sessionExpiry must be at least 1s: a persistent session is what keeps unacked messages');
  const resolved: ResolvedMqttOptions = {
    url,
    topic,
    group,
    clientId: clientId ?? `ergon-${randomUUID().slice(0, 12)}`,
    name: text(options.name, 'name') ?? `mqtt:${topic}`,
    deadLetterTopic: topicOf(options.deadLetterTopic, 'deadLetterTopic') ?? `${topic}/dead-letter`,
    sessionExpiryMs,
    receiveMaximum,
    keepaliveMs: toMillis(options.keepalive ?? '30s', 'keepalive'),
    reconnectPeriodMs: toMillis(options.reconnectPeriod ?? '250ms', 'reconnectPeriod'),
    timeoutMs: toMillis(options.timeout ?? '10s', 'timeout'),
  };
  if (resolved.deadLetterTopic === topic) fail('deadLetterTopic must differ from topic');
  return Object.freeze(resolved);
}
