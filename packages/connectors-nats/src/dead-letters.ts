/**
 * Dead letters: what the connector writes to the dead-letter subject (the
 * original data and headers, plus why and where from) and how to read one
 * back from the dead-letter stream.
 *
 * @module
 */
import { type Codec, type DeadLetterReason, describeReason } from '@ergon/core';
import { headers as createHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { headersToMetadata, type IncomingMessage, NATS_HEADERS, type OutgoingMessage } from './messages.js';

/** Moved to `@ergon/core`; re-exported so this package's API stays the same. */
export { type DeadLetterReason, describeReason } from '@ergon/core';

/** Headers the connector writes on dead letters. They are not copied into metadata. */
export const DEAD_LETTER_HEADERS = Object.freeze({
  /** The original `Nats-Msg-Id` (the transaction id), when it had one. */
  id: 'Ergon-Dead-Letter-Id',
  /** JSON `{ code?, name?, message }` of why it was dead-lettered. */
  reason: 'Ergon-Dead-Letter-Reason',
  /** The stream it was consumed from. */
  stream: 'Ergon-Dead-Letter-Stream',
  /** Its sequence in that stream. */
  sequence: 'Ergon-Dead-Letter-Sequence',
  /** How many times it had been delivered. */
  deliveries: 'Ergon-Dead-Letter-Deliveries',
  /** ISO time of the dead-lettering. */
  at: 'Ergon-Dead-Lettered-At',
} as const);

/** A dead letter as read back from the dead-letter stream. */
export interface NatsDeadLetter {
  /** The transaction id (`Nats-Msg-Id`), if the message had one. */
  readonly id?: string;
  /** The decoded data, when it could be decoded. */
  readonly payload?: unknown;
  /** The original headers as metadata. */
  readonly metadata: Record<string, string>;
  /** Why it was dead-lettered. */
  readonly reason: DeadLetterReason;
  /** The stream and sequence it came from. */
  readonly stream?: string;
  /** Its sequence number in that stream. */
  readonly sequence?: number;
  /** Deliveries it had had. */
  readonly deliveries?: number;
  /** When it was dead-lettered (ISO time). */
  readonly at?: string;
  /** Its own sequence in the dead-letter stream. */
  readonly deadLetterSequence: number;
}

/**
 * The dead letter of a received message: the same data and headers, the
 * reason and origin in headers. Its own message id is `<stream>:<sequence>`,
 * so dead-lettering one message twice (a retried settlement) stores it once.
 */
export function deadLetterMessage(message: IncomingMessage, reason: unknown): OutgoingMessage {
  const headers = createHeaders();
  const original = message.headers;
  for (const key of original?.keys() ?? []) {
    if (key === NATS_HEADERS.id) continue;
    for (const value of original?.values(key) ?? []) headers.append(key, value);
  }
  const id = original?.get(NATS_HEADERS.id);
  if (id) headers.set(DEAD_LETTER_HEADERS.id, id);
  headers.set(DEAD_LETTER_HEADERS.reason, JSON.stringify(describeReason(reason)));
  headers.set(DEAD_LETTER_HEADERS.stream, message.stream);
  headers.set(DEAD_LETTER_HEADERS.sequence, String(message.sequence));
  headers.set(DEAD_LETTER_HEADERS.deliveries, String(message.deliveries));
  headers.set(DEAD_LETTER_HEADERS.at, new Date().toISOString());
  const deadLetterId = `${message.stream}:${message.sequence}`;
  headers.set(NATS_HEADERS.id, deadLetterId);
  return { id: deadLetterId, data: message.data, headers };
}

/** Reads a message of the dead-letter stream. Never throws: what cannot be decoded is left out. */
export function readDeadLetter(
  stored: { readonly data: Uint8Array; readonly header: MsgHdrs | undefined; readonly seq: number },
  codec?: Codec,
): NatsDeadLetter {
  const h = stored.header;
  const get = (key: string) => {
    const value = h?.get(key);
    return value ? value : undefined;
  };
  const id = get(DEAD_LETTER_HEADERS.id);
  const stream = get(DEAD_LETTER_HEADERS.stream);
  const sequence = Number(get(DEAD_LETTER_HEADERS.sequence));
  const deliveries = Number(get(DEAD_LETTER_HEADERS.deliveries));
  const at = get(DEAD_LETTER_HEADERS.at);
  return {
    ...(id === undefined ? {} : { id }),
    ...decodeBody(stored.data, get(NATS_HEADERS.codec) === 'ergon', codec),
    metadata: headersToMetadata(h),
    reason: parseReason(get(DEAD_LETTER_HEADERS.reason)),
    ...(stream === undefined ? {} : { stream }),
    ...(Number.isSafeInteger(sequence) ? { sequence } : {}),
    ...(Number.isSafeInteger(deliveries) ? { deliveries } : {}),
    ...(at === undefined ? {} : { at }),
    deadLetterSequence: stored.seq,
  };
}

function parseReason(text: string | undefined): DeadLetterReason {
  if (text !== undefined) {
    try {
      const parsed = JSON.parse(text) as DeadLetterReason;
      if (typeof parsed?.message === 'string') return parsed;
    } catch {
      // fall through: not ours
    }
  }
  return { message: 'no reason recorded (not dead-lettered by an Ergon connector)' };
}

function decodeBody(data: Uint8Array, ergon: boolean, codec?: Codec): { payload?: unknown } {
  try {
    const text = Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8');
    if (ergon) return codec ? { payload: codec.decode(text) } : {};
    return { payload: JSON.parse(text) };
  } catch {
    return {};
  }
}
