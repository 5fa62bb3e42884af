/**
 * Options of the NATS service and of its connector, validated once and frozen.
 *
 * @module
 */
import {
  type Codec,
  type Duration,
  defaultCodec,
  ErrorCode,
  InvalidArgumentError,
  toMillis,
} from '@ergon/core';
import type { BodyFormat, MessageCodecOptions } from './messages.js';
import type { NatsService } from './service.js';

/** Where JetStream keeps a stream's messages. */
export type StorageKind = 'file' | 'memory';

/** Options of {@link NatsService}. */
export interface NatsServiceOptions {
  /** The server, e.g. `nats://127.0.0.1:4222` (credentials as `nats://user:pass@host:port`). */
  readonly url: string;
  /** The JetStream stream (A–Z a–z 0–9 `_` `-`). */
  readonly stream: string;
  /** The subject dispatches are published on, captured by the stream (a literal subject: no `*` or `>`). */
  readonly subject: string;
  /** The durable pull consumer every connector on the stream shares (they split its messages). Default `ergon`. */
  readonly consumer?: string;
  /** Name for logs and dependency injection. Default `nats:<stream>`. */
  readonly name?: string;
  /** The client name the server shows (`/connz`). Default `ergon:<name>:<pid>`. */
  readonly connectionName?: string;
  /** Subject of dead letters. Default `<subject>.dead-letter`. */
  readonly deadLetterSubject?: string;
  /** Stream that keeps the dead letters. Default `<stream>_DEAD_LETTER`. */
  readonly deadLetterStream?: string;
  /** Create the streams and the consumer when missing (and align the consumer's settings). Default true. */
  readonly declare?: boolean;
  /** Where declared streams keep messages. Default `'file'`. */
  readonly storage?: StorageKind;
  /** How long the server waits for an ack before it delivers a message again (ack wait). Default `'30s'`. */
  readonly ackWait?: Duration;
  /** Deliveries after which a message is dead-lettered instead of processed again. Default 5. */
  readonly maxDeliveries?: number;
  /** Most unacked messages the server hands out across all connectors of the consumer. Default 10,000. */
  readonly maxAckPending?: number;
  /** Window in which a repeated `Nats-Msg-Id` is dropped as a duplicate (declared streams). Default `'2m'`. */
  readonly duplicateWindow?: Duration;
  /** How long a publish waits for the stream's acknowledgement. Default `'10s'`. */
  readonly publishTimeout?: Duration;
  /** Pause between reconnect attempts (the client retries forever, with jitter). Default `'250ms'`. */
  readonly reconnectWait?: Duration;
}

/** {@link NatsServiceOptions} with every default applied, durations in ms. */
export interface ResolvedNatsOptions {
  /** {@link NatsServiceOptions.url}, with its default applied. */
  readonly url: string;
  /** {@link NatsServiceOptions.stream}, with its default applied. */
  readonly stream: string;
  /** {@link NatsServiceOptions.subject}, with its default applied. */
  readonly subject: string;
  /** {@link NatsServiceOptions.consumer}, with its default applied. */
  readonly consumer: string;
  /** {@link NatsServiceOptions.name}, with its default applied. */
  readonly name: string;
  /** {@link NatsServiceOptions.connectionName}, with its default applied. */
  readonly connectionName: string;
  /** {@link NatsServiceOptions.deadLetterSubject}, with its default applied. */
  readonly deadLetterSubject: string;
  /** {@link NatsServiceOptions.deadLetterStream}, with its default applied. */
  readonly deadLetterStream: string;
  /** {@link NatsServiceOptions.declare}, with its default applied. */
  readonly declare: boolean;
  /** {@link NatsServiceOptions.storage}, with its default applied. */
  readonly storage: StorageKind;
  /** {@link NatsServiceOptions.ackWait}, in ms, with its default applied. */
  readonly ackWaitMs: number;
  /** {@link NatsServiceOptions.maxDeliveries}, with its default applied. */
  readonly maxDeliveries: number;
  /** {@link NatsServiceOptions.maxAckPending}, with its default applied. */
  readonly maxAckPending: number;
  /** {@link NatsServiceOptions.duplicateWindow}, in ms, with its default applied. */
  readonly duplicateWindowMs: number;
  /** {@link NatsServiceOptions.publishTimeout}, in ms, with its default applied. */
  readonly publishTimeoutMs: number;
  /** {@link NatsServiceOptions.reconnectWait}, in ms, with its default applied. */
  readonly reconnectWaitMs: number;
}

const NAME = /^[A-Za-z0-9_-]{1,128}$/;
const SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

/**
 * Validates and resolves service options.
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`, `INVALID_DURATION`) naming the bad option.
 */
export function resolveNatsOptions(options: NatsServiceOptions): ResolvedNatsOptions {
  const fail = (message: string): never => {
    throw new InvalidArgumentError(`nats service: ${message}`, { code: ErrorCode.INVALID_ARGUMENT });
  };
  if (typeof options !== 'object' || options === null)
    fail('options are required, e.g. { url, stream, subject }');
  const text = (value: unknown, what: string): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') fail(`${what} must be a non-empty string`);
    return value as string;
  };
  const named = (value: unknown, what: string): string | undefined => {
    const got = text(value, what);
    if (got !== undefined && !NAME.test(got))
      fail(`${what} must be 1–128 characters from A–Z a–z 0–9 _ - (got ${got})`);
    return got;
  };
  const subjectOf = (value: unknown, what: string): string | undefined => {
    const got = text(value, what);
    if (got !== undefined && !SUBJECT.test(got))
      fail(`${what} must be a literal subject: dot-separated tokens, no spaces, * or > (got ${got})`);
    return got;
  };
  const url = text(options.url, 'url') ?? fail('url is required, e.g. nats://127.0.0.1:4222');
  if (!/^(nats|tls):\/\//.test(url)) fail('url must start with nats:// or tls://');
  const stream = named(options.stream, 'stream') ?? fail('stream is required');
  const subject = subjectOf(options.subject, 'subject') ?? fail('subject is required, e.g. orders');
  const name = text(options.name, 'name') ?? `nats:${stream}`;
  const whole = (value: unknown, what: string, fallback: number, min = 1): number => {
    const got = value ?? fallback;
    if (!Number.isSafeInteger(got) || (got as number) < min)
      fail(`${what} must be a whole number ≥ ${min} (got ${String(got)})`);
    return got as number;
  };
  const storage = options.storage ?? 'file';
  if (storage !== 'file' && storage !== 'memory') fail(`storage must be 'file' or 'memory'`);
  if (options.declare !== undefined && typeof options.declare !== 'boolean')
    fail('declare must be a boolean');
  const ackWaitMs = toMillis(options.ackWait ?? '30s', 'ackWait');
  if (ackWaitMs < 300) fail('ackWait must be at least 300ms (in-progress acks go out every third of it)');
  const resolved: ResolvedNatsOptions = {
    url,
    stream,
    subject,
    consumer: named(options.consumer, 'consumer') ?? 'ergon',
    name,
    connectionName: text(options.connectionName, 'connectionName') ?? `ergon:${name}:${process.pid}`,
    deadLetterSubject: subjectOf(options.deadLetterSubject, 'deadLetterSubject') ?? `${subject}.dead-letter`,
    deadLetterStream: named(options.deadLetterStream, 'deadLetterStream') ?? `${stream}_DEAD_LETTER`,
    declare: options.declare ?? true,
    storage,
    ackWaitMs,
    maxDeliveries: whole(options.maxDeliveries, 'maxDeliveries', 5),
    maxAckPending: whole(options.maxAckPending, 'maxAckPending', 10_000),
    duplicateWindowMs: toMillis(options.duplicateWindow ?? '2m', 'duplicateWindow'),
    publishTimeoutMs: toMillis(options.publishTimeout ?? '10s', 'publishTimeout'),
    reconnectWaitMs: toMillis(options.reconnectWait ?? '250ms', 'reconnectWait'),
  };
  if (resolved.deadLetterSubject === subject) fail('deadLetterSubject must differ from subject');
  if (resolved.deadLetterStream === stream) fail('deadLetterStream must differ from stream');
  return Object.freeze(resolved);
}

/** Options of {@link NatsConnector}. */
export interface NatsConnectorOptions {
  /** The connection, as a service. */
  readonly service: NatsService;
  /** Name for logs and dependency injection. Default the service's name. */
  readonly name?: string;
  /** Most transactions this connector holds fetched and unsettled (pulls ask for no more). Default 256. */
  readonly maxInFlight?: number;
  /** How long a fetch with nothing buffered waits for a first message before it returns empty. Default `'1s'`. */
  readonly fetchWait?: Duration;
  /** Delay before a requeued (`nack` with requeue) message is delivered again (`nak` with delay). Default `'0s'`. */
  readonly requeueDelay?: Duration;
  /** Largest data accepted, in bytes: larger messages are dead-lettered, larger dispatches refused. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Dead-letter messages without `Nats-Msg-Id` (`INVALID_ID`) instead of using `<stream>:<sequence>` as their id. Default false. */
  readonly requireId?: boolean;
  /** Data of dispatched messages: `'json'` (default) or `'ergon'` (the Ergon codec: Dates, Maps, BigInts survive). */
  readonly format?: BodyFormat;
  /** Codec of `'ergon'` data. Default the core codec. */
  readonly codec?: Codec;
}

/** {@link NatsConnectorOptions}, validated, with defaults applied. */
export interface ResolvedConnectorOptions {
  /** {@link NatsConnectorOptions.maxInFlight}. */
  readonly maxInFlight: number;
  /** {@link NatsConnectorOptions.fetchWait}, in ms. */
  readonly fetchWaitMs: number;
  /** {@link NatsConnectorOptions.requeueDelay}, in ms. */
  readonly requeueDelayMs: number;
  /** How messages are encoded and decoded (format, codec, size limit, whether an id is required). */
  readonly messages: MessageCodecOptions;
}

/**
 * Validates and resolves connector options (all but `service`, which the connector checks).
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`, `INVALID_DURATION`) naming the bad option.
 */
export function resolveConnectorOptions(options: NatsConnectorOptions): ResolvedConnectorOptions {
  const codec = options.codec ?? defaultCodec;
  const maxBytes = options.maxMessageBytes ?? Math.min(codec.maxBytes, 1024 * 1024);
  const maxInFlight = options.maxInFlight ?? 256;
  for (const [what, value] of [
    ['maxMessageBytes', maxBytes],
    ['maxInFlight', maxInFlight],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new InvalidArgumentError(`NatsConnector ${what} must be a positive whole number (got ${value})`);
  }
  const format = options.format ?? 'json';
  if (format !== 'json' && format !== 'ergon')
    throw new InvalidArgumentError(`NatsConnector format must be 'json' or 'ergon' (got ${String(format)})`);
  return Object.freeze({
    maxInFlight,
    fetchWaitMs: toMillis(options.fetchWait ?? '1s', 'fetchWait'),
    requeueDelayMs: toMillis(options.requeueDelay ?? '0s', 'requeueDelay'),
    messages: Object.freeze({ format, codec, maxBytes, requireId: options.requireId ?? false }),
  });
}
