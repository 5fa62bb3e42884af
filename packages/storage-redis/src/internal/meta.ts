/**
 * The partition count of a store, fixed when its prefix is first opened and
 * kept in `{prefix}:meta`; checked against the `partitions` option on every
 * open (`open-store-1.lua`).
 *
 * @module
 */
import { ErgonError, ErrorCode } from '@ergon/core';
import type { KeyLayout } from './keys.js';
import type { ScriptRunner } from './runner.js';

/**
 * The prefix's partition count: the stored one, or `requested ?? fallback` recorded for a
 * new prefix (a prefix with keys of the single-slot layout has 1).
 * @throws ErgonError `INVALID_ARGUMENT` when `requested` is given and differs from the stored count.
 */
export async function storedPartitions(
  runner: ScriptRunner,
  root: KeyLayout,
  prefix: string,
  requested: number | undefined,
  fallback: number,
): Promise<number> {
  const [stored, recorded] = (await runner.read(
    'open-store',
    root,
    [root.meta],
    [String(requested ?? fallback)],
  )) as [number, number];
  // Only a new record waits for replicas (WAIT covers the connection's writes so far).
  if (recorded === 1) await runner.confirmed((pipeline) => pipeline.hget(root.meta, 'partitions'));
  if (requested !== undefined && requested !== stored) throw partitionsMismatch(prefix, stored, requested);
  return stored;
}

/** The error for opening a store with another partition count than it was created with. */
export function partitionsMismatch(prefix: string, stored: number, requested: number): ErgonError {
  return new ErgonError(
    ErrorCode.INVALID_ARGUMENT,
    `the Redis store with prefix ${JSON.stringify(prefix)} has ${stored} partition(s) (recorded in ` +
      `{${prefix}}:meta), not ${requested} as the partitions option says: open it with partitions: ${stored} ` +
      `(or leave the option out), or move its flows to a new prefix opened with partitions: ${requested} ` +
      '(export and import them; see the @ergon/storage-redis README, "Changing the number of partitions")',
    { details: { option: 'partitions', prefix, stored, requested } },
  );
}
