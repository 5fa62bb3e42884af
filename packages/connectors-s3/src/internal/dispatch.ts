/**
 * Transactions out as objects: key `<prefix><id>` (the id itself when it
 * already starts with the prefix), metadata as user metadata, the payload
 * encoded in the connector's format; every object encoded before the first
 * is written, then written at most `concurrency` at once.
 *
 * @module
 */
import type { Transaction } from '@ergon/core';
import { encodePayload } from '../formats.js';
import type { ResolvedConnectorOptions } from '../options.js';
import type { S3Service } from '../service.js';
import { toUserMetadata } from './metadata.js';
import { mapLimit } from './pool.js';

/** A transaction as the object to write. */
export interface OutgoingObject {
  readonly key: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly body: Uint8Array | string;
  readonly contentType: string;
}

/**
 * The objects of `transactions`.
 * @throws SerializationError (`CODEC_*`) or InvalidArgumentError for a payload or metadata S3 cannot carry.
 */
export function toObjects(
  transactions: readonly Transaction<unknown>[],
  options: ResolvedConnectorOptions,
): OutgoingObject[] {
  const { prefix, format, maxObjectBytes } = options;
  return transactions.map((tx) => ({
    key: tx.id.startsWith(prefix) ? tx.id : `${prefix}${tx.id}`,
    metadata: toUserMetadata(tx.metadata, tx.id),
    ...encodePayload(tx.payload, format, {
      what: `payload of transaction ${tx.id}`,
      maxBytes: maxObjectBytes,
    }),
  }));
}

/** Writes every object, `concurrency` at once; resolves once the server stored each. */
export async function writeObjects(
  service: S3Service,
  objects: readonly OutgoingObject[],
  options: { concurrency: number; signal?: AbortSignal | undefined },
): Promise<void> {
  await mapLimit(objects, options.concurrency, (o) =>
    service.put(o.key, o.body, {
      metadata: o.metadata,
      contentType: o.contentType,
      signal: options.signal,
    }),
  );
}
