/**
 * Transactions as MQTT 5 messages and back: the id is the `ergon-id` user
 * property (MQTT packet ids are reused, so they cannot identify a
 * transaction), the payload the message payload (JSON by default, or the
 * Ergon codec), the metadata the other user properties (so `traceparent`
 * travels with the message).
 *
 * @module
 */
import {
  type Codec,
  createTransaction,
  ErrorCode,
  InvalidArgumentError,
  SerializationError,
  type Transaction,
  transactionMetadata,
  validateId,
} from '@ergon/core';

/** User properties the connector reads and writes itself; they never become metadata. */
export const MQTT_PROPERTIES = Object.freeze({
  /** The transaction id. */
  id: 'ergon-id',
  /** Deliveries so far of a requeued message (a requeue publishes it again with this incremented). */
  deliveries: 'ergon-deliveries',
  /** `ergon` when the payload is written by the Ergon codec; absent for JSON. */
  codec: 'ergon-codec',
} as const);

/** Metadata keys the connector adds to fetched transactions (and leaves out of dispatches). */
export const MQTT_METADATA = Object.freeze({
  /** The topic the message was published to. */
  topic: 'mqtt.topic',
  /** Deliveries of the transaction so far, this one included (requeues and redeliveries to the session). */
  deliveries: 'mqtt.deliveries',
} as const);

/** Body formats of dispatched messages. */
export type BodyFormat = 'json' | 'ergon';

/** User properties as MQTT 5 carries them. */
export type UserProperties = Record<string, string | string[]>;

/** How messages are encoded and checked. */
export interface MessageCodecOptions {
  readonly format: BodyFormat;
  readonly codec: Codec;
  readonly maxBytes: number;
}

/** A message to publish. */
export interface OutgoingMessage {
  /** The transaction id (also sent as the `ergon-id` user property). */
  readonly id: string;
  /** The encoded payload. */
  readonly payload: Buffer;
  /** The transaction's metadata, its id and codec marker as MQTT 5 user properties. */
  readonly userProperties: UserProperties;
  /** `application/json`, or the Ergon codec's content type. */
  readonly contentType: string;
}

/** A received message, as much of it as decoding needs. */
export interface IncomingMessage {
  /** The topic it was published to. */
  readonly topic: string;
  /** Its body, as received. */
  readonly payload: Buffer;
  /** Its MQTT 5 user properties (metadata, `traceparent`), when it has any. */
  readonly userProperties: UserProperties | undefined;
  /** The broker sent it again to the session (DUP): one more delivery. */
  readonly dup: boolean;
}

/** A transaction as a message: `ergon-id` = id, user properties = metadata, payload = payload. */
export function encodeTransaction(tx: Transaction<unknown>, options: MessageCodecOptions): OutgoingMessage {
  const text =
    options.format === 'ergon'
      ? options.codec.encode(tx.payload, `payload of transaction ${tx.id}`)
      : JSON.stringify(tx.payload);
  if (text === undefined) {
    throw new InvalidArgumentError(
      `transaction ${tx.id} has a payload JSON cannot hold (use format: 'ergon')`,
      {
        details: { id: tx.id },
      },
    );
  }
  const payload = Buffer.from(text, 'utf8');
  if (payload.length > options.maxBytes) throw tooLarge(tx.id, payload.length, options.maxBytes);
  const userProperties: UserProperties = {};
  for (const [key, value] of Object.entries(tx.metadata)) {
    if (!isOwnProperty(key) && !key.startsWith('mqtt.')) userProperties[key] = value;
  }
  userProperties[MQTT_PROPERTIES.id] = tx.id;
  if (options.format === 'ergon') userProperties[MQTT_PROPERTIES.codec] = 'ergon';
  return {
    id: tx.id,
    payload,
    userProperties,
    contentType: options.format === 'ergon' ? 'application/vnd.ergon.codec' : 'application/json',
  };
}

/** Deliveries of a received message: what earlier requeues counted, plus this one (two if the broker resent it). */
export function deliveriesOf(message: IncomingMessage): number {
  const counted = Number(first(message.userProperties?.[MQTT_PROPERTIES.deliveries]) ?? '0');
  return (Number.isSafeInteger(counted) && counted > 0 ? counted : 0) + 1 + (message.dup ? 1 : 0);
}

/**
 * A received message as a transaction. `deliveries` is {@link deliveriesOf}
 * the message, when the caller has it already.
 *
 * @throws SerializationError (`CODEC_TOO_LARGE`, `CODEC_MALFORMED`, other `CODEC_*`) or
 *   InvalidArgumentError (`INVALID_ID`): the message is to be dead-lettered with this reason.
 */
export function decodeMessage<P>(
  message: IncomingMessage,
  options: MessageCodecOptions,
  deliveries = deliveriesOf(message),
): Transaction<P> {
  const properties = message.userProperties;
  // One pass over the user properties: the connector's own are read, the others become the
  // metadata, in the record the transaction keeps (not copied again by createTransaction).
  const metadata = transactionMetadata();
  let rawId: string | undefined;
  let ergonCodec = false;
  if (properties !== undefined) {
    // mqtt-packet makes the user properties an Object.create(null) dictionary: Object.keys reads
    // its keys a third as fast as `for…in` with an own-key check, and a lookup per own property
    // (id, codec) cost more than this one pass.
    const keys = Object.keys(properties);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const text = first(properties[key]);
      if (!isOwnProperty(key)) {
        if (text !== undefined) metadata[key] = text;
      } else if (key === MQTT_PROPERTIES.id) rawId = text;
      else if (key === MQTT_PROPERTIES.codec) ergonCodec = text === 'ergon';
    }
  }
  const shown = rawId ?? '(no ergon-id)';
  if (message.payload.length > options.maxBytes)
    throw tooLarge(shown, message.payload.length, options.maxBytes);
  if (rawId === undefined || rawId === '') {
    throw new InvalidArgumentError(
      `message on ${message.topic} has no ergon-id user property: publish it with the transaction id there (dispatchTransactions does); MQTT packet ids are reused and cannot identify a transaction`,
      { code: ErrorCode.INVALID_ID },
    );
  }
  const id = validateId(rawId, 'ergon-id');
  const text = message.payload.toString('utf8');
  let payload: unknown;
  if (ergonCodec) {
    payload = options.codec.decode(text, `payload of message ${id}`);
  } else {
    try {
      payload = JSON.parse(text);
    } catch (error) {
      throw new SerializationError(
        ErrorCode.CODEC_MALFORMED,
        `payload of message ${id} is not JSON (${(error as Error).message}); send JSON, or the Ergon codec with user property ${MQTT_PROPERTIES.codec}: ergon`,
        { cause: error },
      );
    }
  }
  metadata[MQTT_METADATA.topic] = message.topic;
  metadata[MQTT_METADATA.deliveries] = String(deliveries);
  // Decoded just now from the message, so frozen in place rather than copied again.
  return createTransaction<P>({ id, payload: payload as P, metadata }, { decoded: true });
}

/** User properties as metadata (the first value of a repeated one), without the connector's own. */
export function propertiesToMetadata(properties: UserProperties | undefined): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (properties === undefined) return metadata;
  const keys = Object.keys(properties);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (isOwnProperty(key)) continue;
    const text = first(properties[key]);
    if (text !== undefined) metadata[key] = text;
  }
  return metadata;
}

/** The first value of a user property that may repeat. */
export function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isOwnProperty(key: string): boolean {
  return key.startsWith('ergon-');
}

function tooLarge(id: string, bytes: number, maxBytes: number): SerializationError {
  return new SerializationError(
    ErrorCode.CODEC_TOO_LARGE,
    `message ${id} is ${bytes} bytes, over the limit of ${maxBytes} (maxMessageBytes): store large data elsewhere and send a reference`,
    { details: { bytes, maxBytes } },
  );
}
