/**
 * Reading the bucket without taking anything: one transaction by id (where
 * `findTransaction` looks), and the dead letters with their reasons.
 *
 * @module
 */
import { createTransaction, ErgonError, ErrorCode, type Transaction } from '@ergon/core';
import { parseReason, type S3DeadLetter } from './dead-letters.js';
import { decodeObject } from './formats.js';
import { fromUserMetadata, S3_METADATA } from './internal/metadata.js';
import { mapLimit } from './internal/pool.js';
import type { ResolvedConnectorOptions } from './options.js';
import type { S3Service } from './service.js';

/**
 * The transaction `id` names, under the prefix or (acked with `ack: 'move'`) under the done
 * prefix; undefined when there is none. `start` runs once the id is known to be the connector's.
 */
export async function findObjectTransaction<P>(
  service: S3Service,
  settings: ResolvedConnectorOptions,
  id: string,
  start: (signal?: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<Transaction<P> | undefined> {
  const { prefix, donePrefix, format, ack } = settings;
  const hash = format === 'json-lines' ? id.lastIndexOf('#') : -1;
  const key = hash === -1 ? id : id.slice(0, hash);
  const line = hash === -1 ? undefined : Number(id.slice(hash + 1));
  if (!key.startsWith(prefix)) return undefined;
  await start(signal);
  const object =
    (await service.get(key, signal)) ??
    (ack === 'move' ? await service.get(`${donePrefix}${key.slice(prefix.length)}`, signal) : undefined);
  if (!object) return undefined;
  const entry = decodeObject(object.body, format, key).find((e) => e.line === line);
  if (!entry) return undefined;
  try {
    if (entry.error !== undefined) throw entry.error;
    const own: Record<string, string> = {
      [S3_METADATA.bucket]: service.bucket,
      [S3_METADATA.key]: key,
    };
    if (line !== undefined) own[S3_METADATA.line] = String(line);
    return createTransaction<P>(
      { id, payload: entry.payload as P, metadata: { ...fromUserMetadata(object.metadata), ...own } },
      { decoded: true },
    );
  } catch (error) {
    throw new ErgonError(
      ErrorCode.CONNECTOR_ERROR,
      `object ${key} cannot become a transaction (${(error as Error).message}); fetches dead-letter it`,
      { cause: error, details: { bucket: service.bucket, key } },
    );
  }
}

/** Up to `count` dead letters, in key order, read without removing them. */
export async function readDeadLetterObjects(
  service: S3Service,
  settings: ResolvedConnectorOptions,
  count = 1000,
): Promise<S3DeadLetter[]> {
  const { deadLetterPrefix, format, prefix } = settings;
  const keys = (await service.listAll(deadLetterPrefix)).slice(0, count ?? 1000);
  const letters = await mapLimit(keys, settings.concurrency, async ({ key }) => {
    const object = await service.get(key);
    if (!object) return undefined;
    const sourceText = object.metadata['ergon-dead-letter-source'];
    const source = sourceText === undefined ? undefined : decodeURIComponent(sourceText);
    const lineFormat = format === 'json-lines' || /#\d+$/.test(key) ? 'json-lines' : format;
    const [entry] = decodeObject(object.body, lineFormat, key);
    return {
      key,
      ...(source?.startsWith(prefix) ? { id: source } : {}),
      ...(entry && entry.error === undefined ? { payload: entry.payload } : {}),
      metadata: fromUserMetadata(object.metadata),
      reason: parseReason(object.metadata),
      ...(source === undefined ? {} : { source }),
      ...(object.metadata['ergon-dead-letter-at'] ? { at: object.metadata['ergon-dead-letter-at'] } : {}),
    };
  });
  return letters.filter((l) => l !== undefined);
}
