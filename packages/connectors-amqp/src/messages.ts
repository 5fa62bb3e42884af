/**
 * Transactions as AMQP messages and back: the id is the `message_id`
 * property (stable across redeliveries), the payload the body (JSON by
 * default, or the Ergon codec), the metadata the headers (so `traceparent`
 * travels as messaging systems expect).
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
  validateId,
} from '@ergon/core';
import type { MessageProperties } from 'amqplib';
import type { OutgoingMessage } from './internal/publish.js';

/** Content type of bodies written by the Ergon codec (Dates, Maps, BigInts... survive). */
export const ERGON_CONTENT_TYPE = 'application/vnd.ergon.codec';
/** Content type of JSON bodies (the default). */
export const JSON_CONTENT_TYPE = 'application/json';

/** Headers the connector writes on dead letters. They are not copied into transaction metadata. */
export const DEAD_LETTER_HEADERS = Object.freeze({
  /** JSON `{ code?, name?, message }` of why it was dead-lettered. */
  reason: 'x-ergon-dead-letter-reason',
  /** The queue it was consumed from. */
  queue: 'x-ergon-dead-letter-queue',
  /** ISO time of the dead-lettering. */
  at: 'x-ergon-dead-lettered-at',
} as const);

/** Body formats of dispatched messages. */
export type BodyFormat = 'json' | 'ergon';

/** How messages are encoded and checked. */
export interface MessageCodecOptions {
  readonly format: BodyFormat;
  readonly codec: Codec;
  readonly maxBytes: number;
  readonly persistent: boolean;
}

/** A transaction as a message: `message_id` = id, headers = metadata, body = payload. */
export function encodeTransaction(tx: Transaction<unknown>, options: MessageCodecOptions): OutgoingMessage {
  let text: string | undefined;
  if (options.format === 'ergon') text = options.codec.encode(tx.payload, `payload of transaction ${tx.id}`);
  else text = JSON.stringify(tx.payload);
  if (text === undefined) {
    throw new InvalidArgumentError(
      `transaction ${tx.id} has a payload JSON cannot hold (use format: 'ergon')`,
      {
        details: { id: tx.id },
      },
    );
  }
  const content = Buffer.from(text, 'utf8');
  if (content.length > options.maxBytes) throw tooLarge(tx.id, content.length, options.maxBytes);
  return {
    content,
    options: {
      messageId: tx.id,
      contentType: options.format === 'ergon' ? ERGON_CONTENT_TYPE : JSON_CONTENT_TYPE,
      contentEncoding: 'utf-8',
      headers: { ...tx.metadata },
      timestamp: Math.floor(Date.now() / 1000),
      persistent: options.persistent,
    },
  };
}

/**
 * A received message as a transaction.
 *
 * @throws SerializationError (`CODEC_TOO_LARGE`, `CODEC_MALFORMED`, other `CODEC_*`) or
 *   InvalidArgumentError (`INVALID_ID`): the message is to be dead-lettered with this reason.
 */
export function decodeMessage<P>(
  message: { readonly content: Buffer; readonly properties: MessageProperties },
  options: MessageCodecOptions,
): Transaction<P> {
  const { content, properties } = message;
  const rawId: unknown = properties.messageId;
  const shown = typeof rawId === 'string' ? rawId : '(no message_id)';
  if (content.length > options.maxBytes) throw tooLarge(shown, content.length, options.maxBytes);
  if (rawId === undefined || rawId === null || rawId === '') {
    throw new InvalidArgumentError(
      'message has no message_id: publish it with message_id set to the transaction id (dispatchTransactions does), so a redelivery is the same transaction',
      { code: ErrorCode.INVALID_ID },
    );
  }
  const id = validateId(rawId, 'message_id');
  let payload: unknown;
  if (properties.contentType === ERGON_CONTENT_TYPE) {
    payload = options.codec.decode(content.toString('utf8'), `body of message ${id}`);
  } else {
    try {
      payload = JSON.parse(content.toString('utf8'));
    } catch (error) {
      throw new SerializationError(
        ErrorCode.CODEC_MALFORMED,
        `body of message ${id} is not JSON (${(error as Error).message}); send JSON, or the Ergon codec with content type ${ERGON_CONTENT_TYPE}`,
        { cause: error },
      );
    }
  }
  // Decoded just now from the body, so frozen in place rather than copied again.
  return createTransaction<P>(
    { id, payload: payload as P, metadata: headersToMetadata(properties.headers) },
    { decoded: true },
  );
}

/** String-valued headers (numbers and booleans as text), without the connector's own. */
export function headersToMetadata(headers: MessageProperties['headers']): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.startsWith('x-ergon-') || key === 'x-death') continue;
    if (typeof value === 'string') metadata[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
      metadata[key] = String(value);
    else if (Buffer.isBuffer(value)) metadata[key] = value.toString('utf8');
  }
  return metadata;
}

function tooLarge(id: string, bytes: number, maxBytes: number): SerializationError {
  return new SerializationError(
    ErrorCode.CODEC_TOO_LARGE,
    `message ${id} is ${bytes} bytes, over the limit of ${maxBytes} (maxMessageBytes): store large data elsewhere and send a reference`,
    { details: { bytes, maxBytes } },
  );
}
