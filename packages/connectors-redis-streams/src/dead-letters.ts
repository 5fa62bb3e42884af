/**
 * Dead letters: an entry that was refused (undecodable, no id, too large,
 * delivered too often, nacked without requeue) is copied, with every one of
 * its original fields, to the dead-letter stream, followed by
 * `dead-letter.*` fields that say why and where from; then it is acked.
 *
 * @module
 */

import { isUtf8 } from 'node:buffer';
import { type DeadLetterReason, describeReason } from '@ergon/core';
import type { Redis } from 'ioredis';
import { parseEntries, type RawEntry } from './internal/entries.js';
import { toConnectorError } from './internal/errors.js';
import type { ResolvedStreamOptions } from './options.js';

/** Moved to `@ergon/core`; re-exported so this package's API stays the same. */
export { type DeadLetterReason, describeReason } from '@ergon/core';

/** The fields a dead letter gets after the original entry's. */
export const DEAD_LETTER_FIELDS = Object.freeze({
  /** Why, as JSON `{ name, message, code? }`. */
  reason: 'dead-letter.reason',
  /** The reason's Ergon error code, when it has one (`CODEC_MALFORMED`, `NON_RETRYABLE`, …). */
  code: 'dead-letter.code',
  /** The stream the entry came from. */
  stream: 'dead-letter.stream',
  /** The entry's id in that stream. */
  entry: 'dead-letter.entry',
  /** The consumer group it was delivered through. */
  group: 'dead-letter.group',
  /** The consumer that dead-lettered it. */
  consumer: 'dead-letter.consumer',
  /** How many times it had been delivered. */
  deliveries: 'dead-letter.deliveries',
  /** The transaction id, when the entry became a transaction or carried one. */
  transaction: 'dead-letter.transaction',
  /** When, ISO 8601. */
  at: 'dead-letter.at',
} as const);

/** One dead letter as read back by {@link RedisStreamsConnector.readDeadLetters}. */
export interface DeadLetter {
  /** Its own entry id in the dead-letter stream. */
  readonly deadLetterId: string;
  /** The transaction id, when known. */
  readonly transactionId?: string;
  /** The decoded payload, when the payload field could be decoded. */
  readonly payload?: unknown;
  /** The payload field's text, when it was UTF-8. */
  readonly payloadText?: string;
  /** The original entry's other fields (its metadata: `traceparent`, headers). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Why. */
  readonly reason: DeadLetterReason;
  /** Where from: stream, entry id, group, consumer, deliveries. */
  readonly source: Readonly<
    Record<'stream' | 'entry' | 'group' | 'consumer' | 'deliveries', string | undefined>
  >;
  /** When it was dead-lettered. */
  readonly at?: Date;
}

/** What the dead-letter fields are made from. */
export interface DeadLetterSource {
  readonly reason: unknown;
  readonly entry: string;
  readonly deliveries?: number | undefined;
  readonly transactionId?: string | undefined;
}

/** The `dead-letter.*` fields, flat. */
export function deadLetterFields(source: DeadLetterSource, options: ResolvedStreamOptions): string[] {
  const reason = describeReason(source.reason);
  const f = DEAD_LETTER_FIELDS;
  return [
    f.reason,
    JSON.stringify(reason),
    ...(reason.code ? [f.code, reason.code] : []),
    f.stream,
    options.stream,
    f.entry,
    source.entry,
    f.group,
    options.group,
    f.consumer,
    options.consumer,
    ...(source.deliveries === undefined ? [] : [f.deliveries, String(source.deliveries)]),
    ...(source.transactionId === undefined ? [] : [f.transaction, source.transactionId]),
    f.at,
    new Date().toISOString(),
  ];
}

/** A dead-letter stream entry, decoded as far as it can be. */
export function parseDeadLetter(entry: RawEntry, options: ResolvedStreamOptions): DeadLetter {
  const { idField, payloadField, codec } = options;
  const own: Record<string, string> = {};
  const metadata: Record<string, string> = {};
  let payloadText: string | undefined;
  let id: string | undefined;
  const fields = entry.fields ?? [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const nameBytes = fields[i] as Buffer;
    const valueBytes = fields[i + 1] as Buffer;
    if (!isUtf8(nameBytes)) continue;
    const name = nameBytes.toString('utf8');
    const value = isUtf8(valueBytes) ? valueBytes.toString('utf8') : undefined;
    if (name.startsWith('dead-letter.')) {
      if (value !== undefined) own[name] = value;
    } else if (name === payloadField) payloadText = value;
    else if (name === idField) id = value;
    else if (value !== undefined) metadata[name] = value;
  }
  let payload: unknown;
  let decoded = false;
  if (payloadText !== undefined) {
    try {
      payload = codec.decode(payloadText);
      decoded = true;
    } catch {
      // Undecodable payloads are a reason to be here: keep the text only.
    }
  }
  let reason: DeadLetterReason = { message: own[DEAD_LETTER_FIELDS.reason] ?? 'unknown' };
  try {
    const parsed = JSON.parse(own[DEAD_LETTER_FIELDS.reason] ?? '') as DeadLetterReason;
    if (typeof parsed?.message === 'string') reason = parsed;
  } catch {
    // Not written by this connector: the raw text is the message.
  }
  const at = own[DEAD_LETTER_FIELDS.at];
  const transactionId = own[DEAD_LETTER_FIELDS.transaction] ?? id;
  return {
    deadLetterId: entry.id,
    ...(transactionId === undefined ? {} : { transactionId }),
    ...(decoded ? { payload } : {}),
    ...(payloadText === undefined ? {} : { payloadText }),
    metadata,
    reason,
    source: {
      stream: own[DEAD_LETTER_FIELDS.stream],
      entry: own[DEAD_LETTER_FIELDS.entry],
      group: own[DEAD_LETTER_FIELDS.group],
      consumer: own[DEAD_LETTER_FIELDS.consumer],
      deliveries: own[DEAD_LETTER_FIELDS.deliveries],
    },
    ...(at === undefined ? {} : { at: new Date(at) }),
  };
}

/**
 * The dead-letter stream's entries, oldest first, without removing them.
 * `after`: only those after this dead-letter entry id (paging).
 *
 * @throws ErgonError `CONNECTOR_ERROR` when Redis fails.
 */
export async function readDeadLetterEntries(
  client: Redis,
  options: ResolvedStreamOptions,
  page: { count?: number; after?: string },
): Promise<DeadLetter[]> {
  const { deadLetterStream } = options;
  const start = page.after === undefined ? '-' : `(${page.after}`;
  try {
    const reply = await client.xrangeBuffer(deadLetterStream, start, '+', 'COUNT', page.count ?? 100);
    return parseEntries(reply).map((entry) => parseDeadLetter(entry, options));
  } catch (error) {
    throw toConnectorError(error, { action: 'read dead letters from', stream: deadLetterStream });
  }
}
