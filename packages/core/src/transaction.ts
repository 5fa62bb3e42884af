/**
 * The Transaction: the immutable unit of work of a pipeline (DESIGN §3).
 *
 * @module
 */
import { type Codec, defaultCodec } from './codec.js';
import { ErrorCode, InvalidArgumentError } from './errors.js';
import { validateId } from './ids.js';
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
  payload: P;
  metadata?: Record<string, string>;
}

/** Options for {@link createTransaction}. */
export interface CreateTransactionOptions {
  /** Codec used to check that the payload can be stored. Default {@link defaultCodec}. */
  codec?: Codec;
}

/**
 * Makes a frozen transaction. The payload is copied through the codec, so it is
 * checked for encodability and size now, and later changes to the caller's
 * object cannot reach it.
 *
 * @throws InvalidArgumentError (`INVALID_ID`, `INVALID_ARGUMENT`) or SerializationError (`CODEC_*`).
 */
export function createTransaction<P>(
  init: TransactionInit<P>,
  options: CreateTransactionOptions = {},
): Transaction<P> {
  const codec = options.codec ?? defaultCodec;
  const id = init.id === undefined ? uuidv7() : validateId(init.id, 'transaction id');
  const metadata: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(init.metadata ?? {})) {
    if (typeof value !== 'string') {
      throw new InvalidArgumentError(
        `transaction metadata ${JSON.stringify(key)} must be a string (got ${typeof value}); encode other values into the payload`,
        { code: ErrorCode.INVALID_ARGUMENT },
      );
    }
    metadata[key] = value;
  }
  const payload = codec.decode<P>(codec.encode(init.payload, `payload of transaction ${id}`));
  return Object.freeze({ id, payload: deepFreeze(payload), metadata: Object.freeze(metadata) });
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

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) {
    return value;
  }
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
