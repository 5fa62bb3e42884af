/**
 * Dead letters: MQTT has none in the protocol, so the connector publishes
 * the message (payload and user properties kept) to a dead-letter topic with
 * why and where from, then acknowledges the original. Whoever subscribes to
 * that topic reads them; {@link readDeadLetter} decodes one.
 *
 * @module
 */
import { type Codec, type DeadLetterReason, describeReason } from '@ergon/core';
import {
  first,
  type IncomingMessage,
  MQTT_PROPERTIES,
  type OutgoingMessage,
  propertiesToMetadata,
  type UserProperties,
} from './messages.js';

/** Moved to `@ergon/core`; re-exported so this package's API stays the same. */
export { type DeadLetterReason, describeReason } from '@ergon/core';

/** User properties the connector writes on dead letters. They are not copied into metadata. */
export const DEAD_LETTER_PROPERTIES = Object.freeze({
  /** JSON `{ code?, name?, message }` of why it was dead-lettered. */
  reason: 'ergon-dead-letter-reason',
  /** The topic it was consumed from. */
  topic: 'ergon-dead-letter-topic',
  /** Deliveries it had had. */
  deliveries: 'ergon-dead-letter-deliveries',
  /** ISO time of the dead-lettering. */
  at: 'ergon-dead-lettered-at',
} as const);

/** A dead letter as read from the dead-letter topic. */
export interface MqttDeadLetter {
  /** The transaction id (`ergon-id`), if the message had one. */
  readonly id?: string;
  /** The decoded payload, when it could be decoded. */
  readonly payload?: unknown;
  /** The original user properties as metadata. */
  readonly metadata: Record<string, string>;
  /** Why it was dead-lettered. */
  readonly reason: DeadLetterReason;
  /** The topic it came from. */
  readonly topic?: string;
  /** Deliveries it had had. */
  readonly deliveries?: number;
  /** When it was dead-lettered (ISO time). */
  readonly at?: string;
}

/** The dead letter of a received message: the same payload and user properties, the reason added. */
export function deadLetterMessage(
  message: IncomingMessage,
  reason: unknown,
  deliveries: number,
): OutgoingMessage {
  const userProperties: UserProperties = {
    ...message.userProperties,
    [DEAD_LETTER_PROPERTIES.reason]: JSON.stringify(describeReason(reason)),
    [DEAD_LETTER_PROPERTIES.topic]: message.topic,
    [DEAD_LETTER_PROPERTIES.deliveries]: String(deliveries),
    [DEAD_LETTER_PROPERTIES.at]: new Date().toISOString(),
  };
  const id = first(message.userProperties?.[MQTT_PROPERTIES.id]) ?? '';
  return { id, payload: message.payload, userProperties, contentType: 'application/octet-stream' };
}

/** Reads a message of the dead-letter topic. Never throws: what cannot be decoded is left out. */
export function readDeadLetter(
  message: { readonly payload: Buffer; readonly userProperties?: UserProperties | undefined },
  codec?: Codec,
): MqttDeadLetter {
  const props = message.userProperties ?? {};
  const get = (key: string) => first(props[key]);
  const id = get(MQTT_PROPERTIES.id);
  const topic = get(DEAD_LETTER_PROPERTIES.topic);
  const deliveries = Number(get(DEAD_LETTER_PROPERTIES.deliveries));
  const at = get(DEAD_LETTER_PROPERTIES.at);
  return {
    ...(id ? { id } : {}),
    ...decodeBody(message.payload, get(MQTT_PROPERTIES.codec) === 'ergon', codec),
    metadata: propertiesToMetadata(props),
    reason: parseReason(get(DEAD_LETTER_PROPERTIES.reason)),
    ...(topic === undefined ? {} : { topic }),
    ...(Number.isSafeInteger(deliveries) ? { deliveries } : {}),
    ...(at === undefined ? {} : { at }),
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

function decodeBody(payload: Buffer, ergon: boolean, codec?: Codec): { payload?: unknown } {
  try {
    const text = payload.toString('utf8');
    if (ergon) return codec ? { payload: codec.decode(text) } : {};
    return { payload: JSON.parse(text) };
  } catch {
    return {};
  }
}
