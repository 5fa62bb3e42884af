/**
 * Rows and transactions: a claimed row becomes a transaction (or a reason
 * to dead-letter it), a dispatched transaction becomes a row.
 *
 * @module
 */
import {
  createTransaction,
  ErgonError,
  ErrorCode,
  InvalidArgumentError,
  isValidId,
  SerializationError,
  type Transaction,
  transactionMetadata,
} from '@ergon/core';
import type { ResolvedQueueOptions } from '../options.js';
import type { Claim, NewRow, QueueRow, QueueStatements } from './statements.js';

/** Metadata keys the connector adds to fetched transactions (and leaves out of dispatched rows). */
export const POSTGRES_METADATA = Object.freeze({
  /** `<schema>.<table>` the transaction was fetched from. */
  queue: 'postgres.queue',
  /** The row's `seq`. */
  seq: 'postgres.seq',
  /** Which delivery of the row this is (1 for the first). */
  attempts: 'postgres.attempts',
});

const OWN_PREFIX = 'postgres.';

const labels = new WeakMap<ResolvedQueueOptions, string>();

/** The queue's name in metadata: `<schema>.<table>` (made once per options, not per row and ack). */
export function queueLabel(options: ResolvedQueueOptions): string {
  let label = labels.get(options);
  if (label === undefined) {
    label = `${options.schema}.${options.table}`;
    labels.set(options, label);
  }
  return label;
}

/**
 * The transaction of a claimed row.
 *
 * @throws InvalidArgumentError (`INVALID_ID`) for a missing or malformed id,
 *   SerializationError (`CODEC_TOO_LARGE`, other `CODEC_*`) for a payload that cannot be one.
 */
export function toTransaction<P>(row: QueueRow, options: ResolvedQueueOptions): Transaction<P> {
  const label = queueLabel(options);
  let id = row.id;
  if (id === null) {
    if (options.requireId)
      throw new InvalidArgumentError(
        `row ${row.seq} of ${label} has no id: the producer must set the id column (the transaction id)`,
        { code: ErrorCode.INVALID_ID },
      );
    id = `${label}:${row.seq}`;
  } else if (!isValidId(id)) {
    throw new InvalidArgumentError(
      `row ${row.seq} of ${label} has id ${JSON.stringify(String(id).slice(0, 80))}, which is not a valid transaction id: ` +
        'use 1–512 characters from A–Z a–z 0–9 and _ . : @ / + = # ~ -',
      { code: ErrorCode.INVALID_ID },
    );
  }
  // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
  const { maxPayloadBytes } = options;
  const bytes =
    row.payload.length * 3 <= maxPayloadBytes ? row.payload.length : Buffer.byteLength(row.payload, 'utf8');
  if (bytes > maxPayloadBytes)
    throw new SerializationError(
      ErrorCode.CODEC_TOO_LARGE,
      `the payload of row ${row.seq} of ${label} is ${bytes} bytes, over maxPayloadBytes (${options.maxPayloadBytes}): ` +
        'store large data elsewhere and pass a reference, or raise maxPayloadBytes',
      { details: { bytes, maxBytes: options.maxPayloadBytes } },
    );
  // A record taken as it is by createTransaction (decoded), not copied into one of its own.
  const metadata = transactionMetadata();
  const stored = row.metadata;
  if (stored) {
    // for…in: no array of keys per row (the stored object is parsed JSON: own keys only).
    for (const key in stored) {
      if (key.startsWith(OWN_PREFIX)) continue;
      const value = stored[key];
      metadata[key] = typeof value === 'string' ? value : JSON.stringify(value);
    }
  }
  metadata[POSTGRES_METADATA.queue] = label;
  metadata[POSTGRES_METADATA.seq] = row.seq;
  metadata[POSTGRES_METADATA.attempts] = String(row.attempts);
  return createTransaction<P>({ id, payload: JSON.parse(row.payload) as P, metadata }, { decoded: true });
}

/**
 * The row of a dispatched transaction: its id, its payload as JSON, its
 * metadata without the connector's own keys.
 *
 * @throws SerializationError (`CODEC_UNSUPPORTED_TYPE`, `CODEC_TOO_LARGE`) for a payload that is not JSON or too large.
 */
export function toRow(transaction: Transaction<unknown>, options: ResolvedQueueOptions): NewRow {
  const what = `payload of transaction ${transaction.id}`;
  let payload: string | undefined;
  try {
    payload = JSON.stringify(transaction.payload);
  } catch (error) {
    throw new SerializationError(
      ErrorCode.CODEC_UNSUPPORTED_TYPE,
      `${what} cannot be written as JSON (${(error as Error).message}): send JSON values (a BigInt as a string)`,
      { cause: error },
    );
  }
  if (payload === undefined)
    throw new SerializationError(
      ErrorCode.CODEC_UNSUPPORTED_TYPE,
      `${what} is not a JSON value (${typeof transaction.payload}): send JSON values`,
    );
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes > options.maxPayloadBytes)
    throw new SerializationError(
      ErrorCode.CODEC_TOO_LARGE,
      `${what} is ${bytes} bytes, over maxPayloadBytes (${options.maxPayloadBytes}): store large data elsewhere and pass a reference`,
      { details: { bytes, maxBytes: options.maxPayloadBytes } },
    );
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(transaction.metadata)) {
    if (!key.startsWith(OWN_PREFIX)) metadata[key] = value;
  }
  return { id: transaction.id, payload, metadata: JSON.stringify(metadata) };
}

/**
 * The claim a fetched transaction carries in its metadata.
 *
 * @throws InvalidArgumentError when it was not fetched from this queue.
 */
export function claimOf(
  transaction: Transaction<unknown>,
  options: ResolvedQueueOptions,
  name: string,
): Claim {
  const metadata = transaction?.metadata;
  const seq = metadata?.[POSTGRES_METADATA.seq];
  const attempts = Number(metadata?.[POSTGRES_METADATA.attempts]);
  if (
    metadata?.[POSTGRES_METADATA.queue] !== queueLabel(options) ||
    typeof seq !== 'string' ||
    !/^\d+$/.test(seq) ||
    !Number.isSafeInteger(attempts)
  ) {
    throw new InvalidArgumentError(`transaction ${transaction?.id} was not fetched from ${name}`);
  }
  return { seq, attempts };
}

/**
 * Reads transaction `id` without claiming it: the newest row with that id
 * (or the row `<schema>.<table>:<seq>`), held elsewhere or not; `undefined`
 * when there is none.
 *
 * @throws ErgonError `CONNECTOR_ERROR` when the row cannot become a transaction, or PostgreSQL fails.
 */
export async function findQueueTransaction<P>(
  statements: QueueStatements,
  options: ResolvedQueueOptions,
  id: string,
): Promise<Transaction<P> | undefined> {
  const bySeq = `${queueLabel(options)}:`;
  const seq = id.startsWith(bySeq) ? id.slice(bySeq.length) : undefined;
  const row =
    (seq !== undefined && /^\d{1,19}$/.test(seq) ? await statements.find({ seq }) : undefined) ??
    (await statements.find({ id }));
  if (!row) return undefined;
  try {
    return toTransaction<P>(row, options);
  } catch (error) {
    throw new ErgonError(
      ErrorCode.CONNECTOR_ERROR,
      `row ${row.seq} of ${options.queueSql} cannot become a transaction (${(error as Error).message}); ` +
        `fetches dead-letter it to ${options.deadLetterSql}`,
      { cause: error, details: { table: options.queueSql, seq: row.seq } },
    );
  }
}
