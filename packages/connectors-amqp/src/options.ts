/**
 * Options of the AMQP service, validated once and frozen.
 *
 * @module
 */
import { type Duration, ErrorCode, InvalidArgumentError, toMillis } from '@ergon/core';

/** The kinds of exchange the service can declare. */
export type ExchangeType = 'direct' | 'topic' | 'fanout' | 'headers';

/** Reconnection backoff: `initialDelay`, then × `multiplier` per failed attempt, at most `maxDelay`, ±20 % jitter. */
export interface ReconnectOptions {
  /** Default `'100ms'`. */
  readonly initialDelay?: Duration;
  /** Default `'10s'`. */
  readonly maxDelay?: Duration;
  /** Default 2. */
  readonly multiplier?: number;
}

/** Options of {@link AmqpService}. */
export interface AmqpServiceOptions {
  /** The broker, e.g. `amqp://guest:guest@127.0.0.1:5672/%2F` (the vhost is the path). */
  readonly url: string;
  /** The queue transactions are consumed from (and, by default, published to). */
  readonly queue: string;
  /** Name for logs and dependency injection. Default `amqp:<queue>`. */
  readonly name?: string;
  /** The `connection_name` client property, shown by the broker's tools. Default `ergon:<name>:<pid>`. */
  readonly connectionName?: string;
  /** Where dispatches are published. Default `''`: the default exchange, straight to `queue`. */
  readonly exchange?: string;
  /** Type of `exchange` when the service declares it. Default `'direct'`. */
  readonly exchangeType?: ExchangeType;
  /** Routing key of dispatches, and of the queue's binding to `exchange`. Default the queue's name. */
  readonly routingKey?: string;
  /** Where dead letters go. Default `<queue>.dead-letter`. */
  readonly deadLetterQueue?: string;
  /**
   * Exchange of dead letters. Default `''`: the default exchange, straight to
   * `deadLetterQueue`. A named one is declared (direct) and bound with the queue's name.
   */
  readonly deadLetterExchange?: string;
  /** Declare the queues, exchanges and bindings on every connect. Default true; false uses what exists. */
  readonly declare?: boolean;
  /** Queues and exchanges survive a broker restart. Default true. */
  readonly durable?: boolean;
  /** Messages are written to disk (delivery mode 2). Default true. */
  readonly persistent?: boolean;
  /** Extra arguments of the queue's declaration (e.g. `{ 'x-queue-type': 'quorum' }`). */
  readonly queueArguments?: Readonly<Record<string, unknown>>;
  /** Most unacked messages the broker sends one consumer (the in-flight bound). Default 50. */
  readonly prefetch?: number;
  /** Reconnection backoff after a lost connection. */
  readonly reconnect?: ReconnectOptions;
}

/** {@link AmqpServiceOptions} with every default applied, durations in ms. */
export interface ResolvedAmqpOptions {
  /** {@link AmqpServiceOptions.url}, with its default applied. */
  readonly url: string;
  /** {@link AmqpServiceOptions.queue}, with its default applied. */
  readonly queue: string;
  /** {@link AmqpServiceOptions.name}, with its default applied. */
  readonly name: string;
  /** {@link AmqpServiceOptions.connectionName}, with its default applied. */
  readonly connectionName: string;
  /** {@link AmqpServiceOptions.exchange}, with its default applied. */
  readonly exchange: string;
  /** {@link AmqpServiceOptions.exchangeType}, with its default applied. */
  readonly exchangeType: ExchangeType;
  /** {@link AmqpServiceOptions.routingKey}, with its default applied. */
  readonly routingKey: string;
  /** {@link AmqpServiceOptions.deadLetterQueue}, with its default applied. */
  readonly deadLetterQueue: string;
  /** {@link AmqpServiceOptions.deadLetterExchange}, with its default applied. */
  readonly deadLetterExchange: string;
  /** {@link AmqpServiceOptions.declare}, with its default applied. */
  readonly declare: boolean;
  /** {@link AmqpServiceOptions.durable}, with its default applied. */
  readonly durable: boolean;
  /** {@link AmqpServiceOptions.persistent}, with its default applied. */
  readonly persistent: boolean;
  /** {@link AmqpServiceOptions.queueArguments}, with its default applied. */
  readonly queueArguments: Readonly<Record<string, unknown>>;
  /** {@link AmqpServiceOptions.prefetch}, with its default applied. */
  readonly prefetch: number;
  /** {@link AmqpServiceOptions.reconnect}, with its default applied. */
  readonly reconnect: {
    /** {@link ReconnectOptions.initialDelay}, in ms. */
    readonly initialMs: number;
    /** {@link ReconnectOptions.maxDelay}, in ms. */
    readonly maxMs: number;
    /** {@link ReconnectOptions.multiplier}. */
    readonly multiplier: number;
  };
}

const EXCHANGE_TYPES: readonly ExchangeType[] = ['direct', 'topic', 'fanout', 'headers'];

/**
 * Validates and resolves service options.
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`, `INVALID_DURATION`) naming the bad option.
 */
export function resolveAmqpOptions(options: AmqpServiceOptions): ResolvedAmqpOptions {
  const fail = (message: string): never => {
    throw new InvalidArgumentError(`amqp service: ${message}`, { code: ErrorCode.INVALID_ARGUMENT });
  };
  if (typeof options !== 'object' || options === null) fail('options are required, e.g. { url, queue }');
  const name = (value: unknown, what: string, empty = false): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || (!empty && value === '') || Buffer.byteLength(value) > 255)
      fail(`${what} must be a ${empty ? '' : 'non-empty '}string of at most 255 bytes`);
    return value as string;
  };
  const url = name(options.url, 'url') ?? fail('url is required, e.g. amqp://guest:guest@127.0.0.1:5672');
  if (!/^amqps?:\/\//.test(url)) fail('url must start with amqp:// or amqps://');
  const queue = name(options.queue, 'queue') ?? fail('queue is required');
  const serviceName = name(options.name, 'name') ?? `amqp:${queue}`;
  const exchangeType = options.exchangeType ?? 'direct';
  if (!EXCHANGE_TYPES.includes(exchangeType))
    fail(`exchangeType must be one of ${EXCHANGE_TYPES.join(', ')}`);
  const prefetch = options.prefetch ?? 50;
  if (!Number.isSafeInteger(prefetch) || prefetch < 1 || prefetch > 65_535)
    fail(`prefetch must be a whole number from 1 to 65535 (got ${String(prefetch)})`);
  for (const flag of ['declare', 'durable', 'persistent'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') fail(`${flag} must be a boolean`);
  }
  const reconnect = options.reconnect ?? {};
  const initialMs = toMillis(reconnect.initialDelay ?? '100ms', 'reconnect.initialDelay');
  const maxMs = toMillis(reconnect.maxDelay ?? '10s', 'reconnect.maxDelay');
  const multiplier = reconnect.multiplier ?? 2;
  if (initialMs < 1 || maxMs < initialMs)
    fail('reconnect delays must be at least 1 ms, maxDelay ≥ initialDelay');
  if (typeof multiplier !== 'number' || !(multiplier >= 1)) fail('reconnect.multiplier must be ≥ 1');
  const queueArguments = options.queueArguments ?? {};
  if (typeof queueArguments !== 'object' || queueArguments === null) fail('queueArguments must be an object');
  return Object.freeze({
    url,
    queue,
    name: serviceName,
    connectionName: name(options.connectionName, 'connectionName') ?? `ergon:${serviceName}:${process.pid}`,
    exchange: name(options.exchange, 'exchange', true) ?? '',
    exchangeType,
    routingKey: name(options.routingKey, 'routingKey', true) ?? queue,
    deadLetterQueue: name(options.deadLetterQueue, 'deadLetterQueue') ?? `${queue}.dead-letter`,
    deadLetterExchange: name(options.deadLetterExchange, 'deadLetterExchange', true) ?? '',
    declare: options.declare ?? true,
    durable: options.durable ?? true,
    persistent: options.persistent ?? true,
    queueArguments: Object.freeze({ ...queueArguments }),
    prefetch,
    reconnect: Object.freeze({ initialMs, maxMs, multiplier }),
  });
}
