/**
 * Stable transaction ids for stream entries: the same stream and entry give
 * the same id in every process, on every delivery, so a redelivered entry is
 * the same transaction (and, with the durable bridge, the same flow).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { isValidId } from '@ergon/core';

/**
 * The id prefix of a stream: its key when that is a valid id, else the key
 * made id-safe plus a short hash of it (`{orders}` → `_orders_-1a2b3c4d`).
 */
export function streamPrefix(stream: string): string {
  if (isValidId(stream) && stream.length <= 200) return stream;
  const safe = stream.replace(/[^A-Za-z0-9_.:@/+=#~-]/g, '_').slice(0, 64) || 'stream';
  return `${safe}-${createHash('sha256').update(stream).digest('hex').slice(0, 8)}`;
}

/** The id of entry `entryId` of the stream with prefix `prefix`: `<prefix>:<entry id>`. */
export function entryTransactionId(prefix: string, entryId: string): string {
  return `${prefix}:${entryId}`;
}

/**
 * True for a stream entry id, `<ms>-<seq>` (digits, a dash, digits). One
 * loop over the characters, not a pattern nor a search for the dash first:
 * every ack checks one.
 */
export function isEntryId(value: string): boolean {
  let dash = -1;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 48 && code <= 57) continue;
    if (code !== 45 || dash !== -1) return false;
    dash = i;
  }
  return dash > 0 && dash < value.length - 1;
}
