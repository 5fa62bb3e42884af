/**
 * Dead letters: what the connector writes (the original message, headers
 * kept, plus why) and how to read one back.
 *
 * @module
 */
import { type Codec, type DeadLetterReason, describeReason } from '@ergon/core';
import type { MessageProperties } from 'amqplib';
import type { OutgoingMessage } from './internal/publish.js';
import { DEAD_LETTER_HEADERS, ERGON_CONTENT_TYPE, headersToMetadata } from './messages.js';

/** Moved to `@ergon/core`; re-exported so this package's API stays the same. */
export { type DeadLetterReason, describeReason } from '@ergon/core';

/** A dead letter as read back from the dead-letter queue. */
export interface AmqpDeadLetter {
  /** The `message_id` (the transaction id), if the message had one. */
  readonly id?: string;
  /** The decoded body, when it could be decoded. */
  readonly payload?: unknown;
  /** The original headers as metadata. */
  readonly metadata: Record<string, string>;
  /** Why it was dead-lettered (for the broker's own dead-lettering: its `x-death` reason). */
  readonly reason: DeadLetterReason;
  /** The queue it came from. */
  readonly queue?: string;
  /** When it was dead-lettered (ISO time), when the connector did it. */
  readonly at?: string;
}

/** The dead letter of a received message: the same body and properties, the reason in headers. */
export function deadLetterMessage(
  message: { readonly content: Buffer; readonly properties: MessageProperties },
  reason: unknown,
  queue: string,
): OutgoingMessage {
  const { properties } = message;
  return {
    content: message.content,
    options: {
      ...(properties.messageId === undefined ? {} : { messageId: properties.messageId }),
      ...(properties.contentType === undefined ? {} : { contentType: properties.contentType }),
      ...(properties.contentEncoding === undefined ? {} : { contentEncoding: properties.contentEncoding }),
      ...(properties.timestamp === undefined ? {} : { timestamp: properties.timestamp }),
      persistent: true,
      headers: {
        ...properties.headers,
        [DEAD_LETTER_HEADERS.reason]: JSON.stringify(describeReason(reason)),
        [DEAD_LETTER_HEADERS.queue]: queue,
        [DEAD_LETTER_HEADERS.at]: new Date().toISOString(),
      },
    },
  };
}

/** Reads a message of the dead-letter queue. Never throws: what cannot be decoded is left out. */
export function readDeadLetter(
  message: { readonly content: Buffer; readonly properties: MessageProperties },
  codec?: Codec,
): AmqpDeadLetter {
  const { properties } = message;
  const headers = properties.headers ?? {};
  const id = typeof properties.messageId === 'string' ? properties.messageId : undefined;
  return {
    ...(id === undefined ? {} : { id }),
    ...decodeBody(message, codec),
    metadata: headersToMetadata(headers),
    reason: parseReason(headers),
    ...(typeof headers[DEAD_LETTER_HEADERS.queue] === 'string'
      ? { queue: headers[DEAD_LETTER_HEADERS.queue] }
      : {}),
    ...(typeof headers[DEAD_LETTER_HEADERS.at] === 'string' ? { at: headers[DEAD_LETTER_HEADERS.at] } : {}),
  };
}

function parseReason(headers: Record<string, unknown>): DeadLetterReason {
  const text = headers[DEAD_LETTER_HEADERS.reason];
  if (typeof text === 'string') {
    try {
      const parsed = JSON.parse(text) as DeadLetterReason;
      if (typeof parsed?.message === 'string') return parsed;
    } catch {
      // fall through: not ours
    }
  }
  const death = (headers['x-death'] as { reason?: unknown }[] | undefined)?.[0];
  return { message: `dead-lettered by the broker (${String(death?.reason ?? 'no reason recorded')})` };
}

function decodeBody(
  message: { readonly content: Buffer; readonly properties: MessageProperties },
  codec?: Codec,
): { payload?: unknown } {
  try {
    const text = message.content.toString('utf8');
    if (message.properties.contentType === ERGON_CONTENT_TYPE)
      return codec ? { payload: codec.decode(text) } : {};
    return { payload: JSON.parse(text) };
  } catch {
    return {};
  }
}
