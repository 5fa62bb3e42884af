/**
 * Transactions as entry fields and back. An entry carries the transaction
 * id (`idField`), the encoded payload (`payloadField`), and each metadata
 * key as a field of its own (`traceparent`, `tracestate`, headers), so
 * tools that are not Ergon can read and write them.
 *
 * @module
 */
import { isUtf8 } from 'node:buffer';
import {
  createTransaction,
  ErrorCode,
  hasErrorCode,
  InvalidArgumentError,
  SerializationError,
  type Transaction,
  transactionMetadata,
  validateId,
} from '@ergon/core';
import { entryTransactionId } from '../ids.js';
import type { ResolvedStreamOptions } from '../options.js';
import type { Delivery } from './entries.js';

/** Metadata keys set on fetched transactions. */
export const REDIS_METADATA = Object.freeze({
  /** The stream key. */
  stream: 'redis.stream',
  /** The entry id (`<ms>-<seq>`). */
  entry: 'redis.entry',
  /** How many times the entry has been delivered, this time included, as a string. */
  deliveries: 'redis.deliveries',
} as const);

/** Metadata keys under this prefix describe where a fetched transaction came from; dispatch leaves them out. */
const CONNECTOR_PREFIX = 'redis.';

/** The fields of `transaction` for `XADD`, flat. */
export function toFields(transaction: Transaction, options: ResolvedStreamOptions): string[] {
  const { idField, payloadField, codec } = options;
  const fields: string[] = [];
  if (idField) fields.push(idField, transaction.id);
  fields.push(payloadField, codec.encode(transaction.payload, `payload of transaction ${transaction.id}`));
  for (const key of Object.keys(transaction.metadata)) {
    if (key.startsWith(CONNECTOR_PREFIX)) continue;
    if (key === idField || key === payloadField) {
      throw new InvalidArgumentError(
        `transaction ${transaction.id}: metadata key ${JSON.stringify(key)} is the stream's ${key === idField ? 'id' : 'payload'} field: rename the key`,
        { details: { id: transaction.id, key } },
      );
    }
    fields.push(key, transaction.metadata[key] as string);
  }
  return fields;
}

/**
 * How a connector's entries are read: its options, its stream's id prefix,
 * and the payload and id field names as UTF-8 bytes (entries are read as
 * bytes; their names are compared byte by byte, not decoded). Made once per
 * connector with {@link entryFormat}.
 */
export interface EntryFormat {
  readonly options: ResolvedStreamOptions;
  /** The stream's transaction id prefix (entries without an id field). */
  readonly prefix: string;
  readonly payloadName: Buffer;
  /** Undefined when there is no id field (`idField: false`). */
  readonly idName: Buffer | undefined;
}

/** The {@link EntryFormat} of a connector with `options` on a stream with id prefix `prefix`. */
export function entryFormat(options: ResolvedStreamOptions, prefix: string): EntryFormat {
  const { payloadField, idField } = options;
  return {
    options,
    prefix,
    payloadName: Buffer.from(payloadField, 'utf8'),
    idName: idField === false ? undefined : Buffer.from(idField, 'utf8'),
  };
}

/** Why an entry cannot become a transaction (see {@link toTransactions}). */
export class Refusal {
  readonly reason: unknown;

  constructor(reason: unknown) {
    this.reason = reason;
  }
}

/**
 * The transactions `entries` carry, in order; for an entry that cannot
 * become one, a {@link Refusal} with the error {@link toTransaction} throws.
 *
 * Three passes over the batch, one kind of work each: the entries' text
 * (field names compared as bytes, values decoded and checked to be UTF-8),
 * then their payloads (the codec's decode), then their transactions
 * (metadata, ids checked, frozen). The code of one kind stays in the CPU's
 * instruction cache over the whole batch; entry by entry, the three did not
 * fit together, and the same work cost a quarter more.
 */
export function toTransactions<P>(
  entries: readonly Delivery[],
  format: EntryFormat,
): (Transaction<P> | Refusal)[] {
  const count = entries.length;
  const results = new Array<Transaction<P> | Refusal>(count);
  const texts = new Array<string>(count);
  const ids = new Array<string | undefined>(count);
  const records = new Array<Record<string, string>>(count);
  for (let i = 0; i < count; i++) {
    // Filled here and taken by createTransaction as it is (a record that inherits nothing), not copied.
    const metadata = transactionMetadata();
    records[i] = metadata;
    try {
      texts[i] = readFields(entries[i] as Delivery, format, metadata, ids, i);
    } catch (error) {
      results[i] = new Refusal(error);
    }
  }
  const payloads = new Array<unknown>(count);
  const { codec } = format.options;
  for (let i = 0; i < count; i++) {
    if (results[i] !== undefined) continue;
    const text = texts[i] as string;
    try {
      payloads[i] = codec.decode(text);
    } catch {
      // Decoded again for the error that names the entry: its wording is made only for a failure.
      try {
        payloads[i] = codec.decode(text, `payload of entry ${(entries[i] as Delivery).id}`);
      } catch (error) {
        results[i] = new Refusal(error);
      }
    }
  }
  for (let i = 0; i < count; i++) {
    if (results[i] !== undefined) continue;
    try {
      results[i] = made<P>(
        entries[i] as Delivery,
        format,
        ids[i],
        payloads[i] as P,
        records[i] as Record<string, string>,
      );
    } catch (error) {
      results[i] = new Refusal(error);
    }
  }
  return results;
}

/**
 * The transaction an entry carries (one entry of {@link toTransactions}).
 *
 * @throws SerializationError (`CODEC_MALFORMED`: no payload, text that is not
 *   UTF-8 or not decodable; `CODEC_TOO_LARGE`) or InvalidArgumentError
 *   (`INVALID_ID`: a bad or, with `requireId`, missing id): the entry cannot
 *   become a transaction.
 */
export function toTransaction<P>(entry: Delivery, format: EntryFormat): Transaction<P> {
  const [result] = toTransactions<P>([entry], format);
  if (result instanceof Refusal) throw result.reason;
  return result as Transaction<P>;
}

/**
 * The payload text of `entry`; its id field's value into `ids[at]`, its other
 * fields into `metadata`. Names are compared as bytes, values decoded and
 * checked to be UTF-8; an error's wording is made only when there is one.
 */
function readFields(
  entry: Delivery,
  format: EntryFormat,
  metadata: Record<string, string>,
  ids: (string | undefined)[],
  at: number,
): string {
  const { options, payloadName, idName } = format;
  const { idField, payloadField, codec } = options;
  const fields = entry.fields ?? [];
  let payloadBytes: Buffer | undefined;
  let id: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as Buffer;
    const value = fields[i + 1] as Buffer;
    if (sameBytes(name, payloadName)) payloadBytes = value;
    else if (idName !== undefined && sameBytes(name, idName))
      id = utf8(value) ?? notText(`field ${idField}`, entry.id);
    else {
      const decoded = utf8(name) ?? notText('a field name', entry.id);
      metadata[decoded] = utf8(value) ?? notText(`field ${decoded}`, entry.id);
    }
  }
  ids[at] = id;
  if (payloadBytes === undefined) {
    throw new SerializationError(
      ErrorCode.CODEC_MALFORMED,
      `entry ${entry.id} has no ${payloadField} field: producers must write the payload there (or set payloadField)`,
      { details: { entry: entry.id } },
    );
  }
  const payloadSize = payloadBytes.length;
  if (payloadSize > codec.maxBytes) {
    throw new SerializationError(
      ErrorCode.CODEC_TOO_LARGE,
      `entry ${entry.id}: payload is ${payloadSize} bytes, over the limit of ${codec.maxBytes}: producers must send smaller payloads (or raise the codec's maxBytes)`,
      { details: { entry: entry.id, bytes: payloadSize, maxBytes: codec.maxBytes } },
    );
  }
  return utf8(payloadBytes) ?? notText(payloadField, entry.id);
}

/** The transaction of `entry`, from what its fields held. */
function made<P>(
  entry: Delivery,
  format: EntryFormat,
  id: string | undefined,
  payload: P,
  metadata: Record<string, string>,
): Transaction<P> {
  const { idField, requireId, stream } = format.options;
  if (id === undefined && requireId) {
    throw new InvalidArgumentError(
      `entry ${entry.id} has no ${idField} field, and requireId is set: producers must give every entry a transaction id`,
      { code: ErrorCode.INVALID_ID, details: { entry: entry.id } },
    );
  }
  metadata[REDIS_METADATA.stream] = stream;
  metadata[REDIS_METADATA.entry] = entry.id;
  // A first delivery's count without a number-to-text conversion.
  metadata[REDIS_METADATA.deliveries] = entry.deliveries === 1 ? '1' : String(entry.deliveries);
  try {
    // The payload was decoded just now from the entry: frozen in place, not copied again.
    return createTransaction<P>(
      { id: id === undefined ? entryTransactionId(format.prefix, entry.id) : id, payload, metadata },
      DECODED,
    );
  } catch (error) {
    // createTransaction checks the id (a check here first ran the same pattern twice per entry):
    // a bad one is reported again naming the entry it came from.
    if (id !== undefined && hasErrorCode(error, ErrorCode.INVALID_ID))
      validateId(id, `transaction id of entry ${entry.id}`);
    throw error;
  }
}

/** The payload and metadata were decoded from the entry just now: frozen in place, not copied. */
const DECODED = Object.freeze({ decoded: true });

/**
 * True when `bytes` are `name`'s. A loop, not `Buffer#equals`: field names
 * are short, and the loop costs less than the call into C++ it replaces
 * (two per entry).
 */
function sameBytes(bytes: Buffer, name: Buffer): boolean {
  const length = name.length;
  if (bytes.length !== length) return false;
  for (let i = 0; i < length; i++) if (bytes[i] !== name[i]) return false;
  return true;
}

/**
 * UTF-8 text of `bytes`; undefined when they are not UTF-8. Decoding
 * replaces every malformed sequence with U+FFFD, so text without one was
 * valid UTF-8: only text that has one (malformed, or a real U+FFFD) is
 * checked byte by byte. That costs one search instead of a second pass over
 * every field's bytes.
 */
function utf8(bytes: Buffer): string | undefined {
  // No arguments: Buffer#toString's shortest path (UTF-8 over the whole buffer).
  const decoded = bytes.toString();
  return decoded.indexOf('\uFFFD') === -1 || isUtf8(bytes) ? decoded : undefined;
}

/** @throws SerializationError `CODEC_MALFORMED`: `what` of entry `entryId` is not UTF-8. */
function notText(what: string, entryId: string): never {
  throw new SerializationError(
    ErrorCode.CODEC_MALFORMED,
    `entry ${entryId}: ${what} is not UTF-8 text: producers must write UTF-8`,
    { details: { entry: entryId } },
  );
}
