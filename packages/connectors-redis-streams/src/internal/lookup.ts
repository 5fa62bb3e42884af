/**
 * Finding a transaction in the stream without claiming it: by entry id
 * (`<stream>:<entry id>`), or by the id field (a scan from the newest
 * entry back), with its delivery count from the pending list.
 *
 * @module
 */
import { ErgonError, ErrorCode, type Transaction } from '@ergon/core';
import type { Redis } from 'ioredis';
import { entryTransactionId, isEntryId } from '../ids.js';
import type { ResolvedStreamOptions } from '../options.js';
import { parseEntries, parsePendingCounts, type RawEntry } from './entries.js';
import { toConnectorError } from './errors.js';
import { entryFormat, toTransaction } from './fields.js';

/** Entries looked at per page while searching by id field. */
const SCAN_PAGE = 500;

/**
 * Transaction `id` of the stream, read without changing anything (acked and
 * pending entries are found too); `undefined` when there is none.
 *
 * @throws ErgonError `CONNECTOR_ERROR` when the entry cannot become a
 *   transaction or Redis fails.
 */
export async function findEntryTransaction<P>(
  client: Redis,
  options: ResolvedStreamOptions,
  prefix: string,
  id: string,
  signal: AbortSignal | undefined,
): Promise<Transaction<P> | undefined> {
  const { stream, idField } = options;
  try {
    const entryId = id.startsWith(`${prefix}:`) ? id.slice(prefix.length + 1) : undefined;
    if (entryId !== undefined && isEntryId(entryId)) {
      const [entry] = parseEntries(await client.xrangeBuffer(stream, entryId, entryId));
      if (entry && entryTransactionId(prefix, entry.id) === id)
        return await peek<P>(client, options, prefix, entry);
    }
    if (!idField) return undefined;
    const wanted = Buffer.from(id);
    let end = '+';
    for (;;) {
      signal?.throwIfAborted();
      const page = parseEntries(await client.xrevrangeBuffer(stream, end, '-', 'COUNT', SCAN_PAGE));
      for (const entry of page)
        if (carries(entry, idField, wanted)) return await peek<P>(client, options, prefix, entry);
      if (page.length < SCAN_PAGE) return undefined;
      end = `(${(page[page.length - 1] as RawEntry).id}`;
    }
  } catch (error) {
    if (signal?.aborted) throw error;
    throw toConnectorError(error, { action: `read transaction ${id} from`, stream });
  }
}

/** The entry's transaction, with its delivery count from the pending list (0 when not pending). */
async function peek<P>(
  client: Redis,
  options: ResolvedStreamOptions,
  prefix: string,
  entry: RawEntry,
): Promise<Transaction<P>> {
  const { stream, group } = options;
  const pending = await client.xpending(stream, group, entry.id, entry.id, 1).catch(() => []);
  const deliveries = parsePendingCounts(pending).get(entry.id) ?? 0;
  try {
    return toTransaction<P>({ ...entry, deliveries }, entryFormat(options, prefix));
  } catch (error) {
    throw new ErgonError(
      ErrorCode.CONNECTOR_ERROR,
      `entry ${entry.id} of ${stream} cannot become a transaction (${error instanceof Error ? error.message : String(error)}); ` +
        `fetches dead-letter it to ${options.deadLetterStream}`,
      { cause: error, details: { stream, entry: entry.id } },
    );
  }
}

/** True when `entry` has `field` equal to `value`. */
function carries(entry: RawEntry, field: string, value: Buffer): boolean {
  const fields = entry.fields ?? [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if ((fields[i] as Buffer).toString() === field && value.equals(fields[i + 1] as Buffer)) return true;
  }
  return false;
}
