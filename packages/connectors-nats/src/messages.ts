/**
 * Transactions as JetStream messages and back: the id is the `Nats-Msg-Id`
 * header (which the stream also uses to drop duplicate publishes), the
 * payload the data (JSON by default, or the Ergon codec), the metadata the
 * other headers (so `traceparent` travels as messaging systems expect).
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
import type { JsMsg } from '@nats-io/jetstream';
import { headers as createHeaders, type MsgHdrs } from '@nats-io/transport-node';

/** Headers the connector reads and writes itself; they never become metadata. */
export const NATS_HEADERS = Object.freeze({
  /** The transaction id; the stream drops a second publish of it within the duplicate window. */
  id: 'Nats-Msg-Id',
  /** `ergon` when the data is written by the Ergon codec; absent for JSON. */
  codec: 'Ergon-Codec',
} as const);

/** Metadata keys the connector adds to fetched transactions (and leaves out of dispatches). */
export const NATS_METADATA = Object.freeze({
  /** The stream the message was read from. */
  stream: 'nats.stream',
  /** Its stream sequence. */
  sequence: 'nats.sequence',
  /** How many times it has been delivered, this delivery included. */
  deliveries: 'nats.deliveries',
} as const);

/** Body formats of dispatched messages. */
export type BodyFormat = 'json' | 'ergon';

/** How messages are encoded and checked. */
export interface MessageCodecOptions {
  readonly format: BodyFormat;
  readonly codec: Codec;
  readonly maxBytes: number;
  /** Refuse (dead-letter) messages without `Nats-Msg-Id` instead of using `<stream>:<sequence>` as the id. */
  readonly requireId: boolean;
}

/** A message to publish. */
export interface OutgoingMessage {
  /** The transaction id (also sent as the `Nats-Msg-Id` header). */
  readonly id: string;
  /** The encoded payload. */
  readonly data: Uint8Array;
  /** The message headers: the id and the transaction's metadata. */
  readonly headers: MsgHdrs;
}

/** A received message, as much of it as decoding needs. */
export interface IncomingMessage {
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
  readonly stream: string;
  readonly sequence: number;
  readonly deliveries: number;
}

/** What decoding needs of a delivered JetStream message. */
export function incomingOf(message: JsMsg): IncomingMessage {
  return {
    data: message.data,
    headers: message.headers,
    stream: message.info.stream,
    sequence: message.seq,
    deliveries: message.info.deliveryCount,
  };
}

/** A transaction as a message: `Nats-Msg-Id` = id, headers = metadata, data = payload. */
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
  const data = Buffer.from(text, 'utf8');
  if (data.length > options.maxBytes) throw tooLarge(tx.id, data.length, options.maxBytes);
  const headers = createHeaders();
  for (const [key, value] of Object.entries(tx.metadata)) {
    if (isOwnHeader(key) || key.startsWith('nats.')) continue;
    try {
      headers.set(key, value);
    } catch (error) {
      throw new InvalidArgumentError(
        `metadata key ${JSON.stringify(key)} of transaction ${tx.id} cannot be a NATS header (${(error as Error).message}): use printable ASCII without spaces or colons`,
        { cause: error },
      );
    }
  }
  headers.set(NATS_HEADERS.id, tx.id);
  if (options.format === 'ergon') headers.set(NATS_HEADERS.codec, 'ergon');
  return { id: tx.id, data, headers };
}

/**
 * A received message as a transaction.
 *
 * @throws SerializationError (`CODEC_TOO_LARGE`, `CODEC_MALFORMED`, other `CODEC_*`) or
 *   InvalidArgumentError (`INVALID_ID`): the message is to be dead-lettered with this reason.
 */
export function decodeMessage<P>(message: IncomingMessage, options: MessageCodecOptions): Transaction<P> {
  // One pass over the headers: the id, the codec and the metadata (each `get` of a header lists
  // and filters every key, so a look-up each for the id and the codec cost more than the pass).
  const metadata = transactionMetadata();
  let rawId = '';
  let codec = '';
  const headers = message.headers;
  if (headers) {
    for (const key of headers.keys()) {
      if (key === NATS_HEADERS.id) rawId = headers.get(key);
      else if (key === NATS_HEADERS.codec) codec = headers.get(key);
      else if (!isOwnHeader(key)) metadata[key] = headers.get(key);
    }
  }
  const shown = rawId === '' ? `${message.stream}:${message.sequence}` : rawId;
  if (message.data.length > options.maxBytes) throw tooLarge(shown, message.data.length, options.maxBytes);
  if (rawId === '' && options.requireId) {
    throw new InvalidArgumentError(
      `message ${shown} has no Nats-Msg-Id header: publish it with the transaction id as its message id (dispatchTransactions does), so a redelivery is the same transaction`,
      { code: ErrorCode.INVALID_ID },
    );
  }
  const id = validateId(rawId === '' ? shown : rawId, 'Nats-Msg-Id');
  const text = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.length).toString(
    'utf8',
  );
  let payload: unknown;
  if (codec === 'ergon') {
    payload = options.codec.decode(text, `data of message ${id}`);
  } else {
    try {
      payload = JSON.parse(text);
    } catch (error) {
      throw new SerializationError(
        ErrorCode.CODEC_MALFORMED,
        `data of message ${id} is not JSON (${(error as Error).message}); send JSON, or the Ergon codec with header ${NATS_HEADERS.codec}: ergon`,
        { cause: error },
      );
    }
  }
  // The record filled above is taken as it is (no object of headers spread into a literal, then
  // copied again); the payload was decoded just now, so frozen in place rather than copied.
  metadata[NATS_METADATA.stream] = message.stream;
  metadata[NATS_METADATA.sequence] = String(message.sequence);
  metadata[NATS_METADATA.deliveries] = String(message.deliveries);
  return createTransaction<P>({ id, payload: payload as P, metadata }, { decoded: true });
}

/** Headers as metadata (the first value of each), without the connector's and the server's own. */
export function headersToMetadata(headers: MsgHdrs | undefined): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (!headers) return metadata;
  for (const key of headers.keys()) {
    if (isOwnHeader(key)) continue;
    metadata[key] = headers.get(key);
  }
  return metadata;
}

function isOwnHeader(key: string): boolean {
  const lower = key.toLowerCase();
  return lower.startsWith('nats-') || lower.startsWith('ergon-');
}

function tooLarge(id: string, bytes: number, maxBytes: number): SerializationError {
  return new SerializationError(
    ErrorCode.CODEC_TOO_LARGE,
    `message ${id} is ${bytes} bytes, over the limit of ${maxBytes} (maxMessageBytes): store large data elsewhere and send a reference`,
    { details: { bytes, maxBytes } },
  );
}
