/**
 * The Transaction: the immutable unit of work of a pipeline (DESIGN §3).
 *
 * @module
 */
import { type Codec, defaultCodec } from './codec.js';
import { ErrorCode, InvalidArgumentError, SerializationError } from './errors.js';
import { validateId } from './ids.js';
import { MAX_DEPTH } from './internal/encodable.js';
import { uuidv7 } from './uuid.js';

/** String metadata carried with a transaction (trace context, source offsets, headers). */
export type TransactionMetadata = Readonly<Record<string, string>>;

/** An immutable unit of work. Create it with {@link createTransaction}. */
export interface Transaction<P = unknown> {
  /** Unique id; with the durable bridge it is also the flow id. */
  readonly id: string;
  /** The data, deeply frozen where it is made of plain objects and arrays. */
  readonly payload: P;
  /** String metadata such as `traceparent`. */
  readonly metadata: TransactionMetadata;
}

/** Input to {@link createTransaction}. */
export interface TransactionInit<P> {
  /** Defaults to a UUIDv7. */
  id?: string;
  /** The data; it must be encodable by the codec, and is deep-frozen in the transaction. */
  payload: P;
  /** String metadata (`traceparent`, headers); default none. */
  metadata?: Record<string, string>;
}

/** Options for {@link createTransaction}. */
export interface CreateTransactionOptions {
  /** Codec used to check that the payload can be stored. Default {@link defaultCodec}. */
  codec?: Codec;
  /**
   * The payload was just decoded from text or bytes (`JSON.parse` of a
   * message body, a codec's `decode`) and nothing else refers to it: it is
   * frozen in place instead of copied through the codec. Such a value is
   * plain data already, and its size was bounded by the message it came
   * from (a connector checks that against its limit before decoding), so
   * the copy would only cost time: for a small message it was most of a
   * connector's work per transaction. What the codec's check would refuse
   * in decoded data is still refused: nesting deeper than it accepts
   * (`CODEC_TOO_DEEP`) and own `__proto__` keys (`CODEC_UNSAFE_KEY`). A
   * metadata record from {@link transactionMetadata} is then taken as it is
   * too. Default false.
   */
  decoded?: boolean;
}

/**
 * Makes a frozen transaction. The payload is copied through the codec, so it is
 * checked for encodability and size now, and later changes to the caller's
 * object cannot reach it; with `decoded: true` (a payload the caller just
 * decoded, see {@link CreateTransactionOptions.decoded}) it is frozen in place.
 *
 * @throws InvalidArgumentError (`INVALID_ID`, `INVALID_ARGUMENT`) or SerializationError (`CODEC_*`).
 */
export function createTransaction<P>(
  init: TransactionInit<P>,
  options: CreateTransactionOptions = {},
): Transaction<P> {
  const codec = options.codec ?? defaultCodec;
  const id = init.id === undefined ? uuidv7() : validateId(init.id, 'transaction id');
  const given = init.metadata;
  // A record the caller just made with transactionMetadata() and filled: taken as it is (see there).
  const metadata =
    options.decoded && given !== undefined && isOpenRecord(given)
      ? checkedMetadata(given)
      : copyMetadata(given);
  const payload = options.decoded
    ? freezeDecoded(init.payload, id)
    : deepFreeze(codec.decode<P>(codec.encode(init.payload, `payload of transaction ${id}`)));
  return Object.freeze({ id, payload, metadata: Object.freeze(metadata) });
}

/**
 * Makes metadata records: objects that inherit nothing (no `toString`, no
 * `__proto__` setter, so every key, `__proto__` too, is an own string), as
 * `Object.create(null)` made them, but in V8's fast mode: a dictionary-mode
 * object cost seven times as much to fill and freeze, per transaction.
 */
const MetadataRecord = function MetadataRecord() {} as unknown as new () => Record<string, string>;
const RECORD_PROTOTYPE = Object.freeze(Object.create(null));
MetadataRecord.prototype = RECORD_PROTOTYPE;

/**
 * An empty metadata record, for a connector that builds a transaction's
 * metadata from a message it just decoded: filled and passed to
 * {@link createTransaction} with `decoded: true`, it becomes the
 * transaction's metadata as it is (its values checked, then frozen) instead
 * of being copied into a record of its own. Like every transaction's
 * metadata it inherits nothing, so any key (`__proto__`, `toString`) is an
 * own one.
 */
export function transactionMetadata(): Record<string, string> {
  return new MetadataRecord();
}

function isOpenRecord(metadata: Record<string, string>): boolean {
  return Object.getPrototypeOf(metadata) === RECORD_PROTOTYPE && !Object.isFrozen(metadata);
}

/** `given`'s own keys in a record of their own, each value checked. */
function copyMetadata(given: Record<string, string> | undefined): Record<string, string> {
  const metadata = new MetadataRecord();
  if (given === undefined) return metadata;
  // for…in, not Object.keys: no array of keys per transaction (its own keys only, as Object.keys).
  for (const key in given) {
    if (!hasOwn.call(given, key)) continue;
    metadata[key] = checkedValue(key, given[key]);
  }
  return metadata;
}

/** `metadata` itself, each value checked. */
function checkedMetadata(metadata: Record<string, string>): Record<string, string> {
  for (const key in metadata) checkedValue(key, metadata[key]);
  return metadata;
}

function checkedValue(key: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new InvalidArgumentError(
      `transaction metadata ${JSON.stringify(key)} must be a string (got ${typeof value}); encode other values into the payload`,
      { code: ErrorCode.INVALID_ARGUMENT },
    );
  }
  return value;
}

/** True for objects shaped like a {@link Transaction}. */
export function isTransaction(value: unknown): value is Transaction {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Transaction).id === 'string' &&
    'payload' in value &&
    typeof (value as Transaction).metadata === 'object'
  );
}

/**
 * Deep-freezes a freshly decoded payload in place, refusing what the codec's
 * check refuses in decoded data: nesting past its depth limit and own
 * `__proto__` keys (JSON.parse makes those own properties).
 */
function freezeDecoded<T>(value: T, id: string): T {
  try {
    return deepFreeze(value, 0);
  } catch (error) {
    if (error instanceof UnsafeKey) {
      throw new SerializationError(
        ErrorCode.CODEC_UNSAFE_KEY,
        `payload of transaction ${id} has an own '__proto__' key: rename the key (it is refused to rule out prototype pollution)`,
      );
    }
    if (!(error instanceof RangeError)) throw error;
    throw new SerializationError(
      ErrorCode.CODEC_TOO_DEEP,
      `payload of transaction ${id} nests deeper than ${MAX_DEPTH} levels: flatten the value (a list of records with ids instead of records inside each other)`,
      { cause: error },
    );
  }
}

class UnsafeKey extends Error {}

/** Freezes `value` and everything in it. With a `depth` (decoded payloads), also the checks of {@link freezeDecoded}. */
function deepFreeze<T>(value: T, depth?: number): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) {
    return value;
  }
  if (depth !== undefined && depth >= MAX_DEPTH) throw new RangeError('too deep');
  Object.freeze(value);
  const next = depth === undefined ? undefined : depth + 1;
  // Arrays by index, objects by for…in (own keys only): no array of keys per object, as
  // Object.keys made for every object and array of every payload.
  // Only objects are visited (a call per string or number was most of the walk).
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null) deepFreeze(item, next);
    }
    return value;
  }
  for (const key in value) {
    if (!hasOwn.call(value, key)) continue;
    if (next !== undefined && key === '__proto__') throw new UnsafeKey();
    const item = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null) deepFreeze(item, next);
  }
  return value;
}

const hasOwn = Object.prototype.hasOwnProperty;
