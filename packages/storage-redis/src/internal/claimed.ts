/**
 * A claimed flow as the claim scripts return it (claim, claim-flow): the values of
 * {@link CLAIMED_FIELDS} in that order, null for a field the hash lacks, where every field's
 * name and value used to come back (see `scripts/includes/claim.lua`).
 *
 * @module
 */

/**
 * The fields of a claim's reply, in its order. Mirror of `CLAIMED_AT` in
 * `scripts/includes/claim.lua`: change both together.
 */
export const CLAIMED_FIELDS = [
  'status',
  'token',
  'runs',
  'abandons',
  'owner',
  'queue',
  'type',
  'rm',
  'adm',
  'priority',
  'runAt',
  'ord',
  'id',
  'input',
  'cancel',
  'createdAt',
  'lease',
  'waits',
  'updatedAt',
  'parentId',
  'trace',
  'ckey',
  'clim',
  'dbk',
  'tag',
  'lastError',
  'progress',
  'progressAt',
  'result',
  'error',
  'finishedAt',
] as const;

/** A claim's reply for one flow as the flow's hash (the fields it has). */
export function claimedHash(row: unknown): Record<string, string> {
  const hash: Record<string, string> = {};
  if (!Array.isArray(row)) return hash;
  const n = Math.min(row.length, CLAIMED_FIELDS.length);
  for (let i = 0; i < n; i++) {
    const value: unknown = row[i];
    if (value !== null && value !== undefined && value !== false)
      hash[CLAIMED_FIELDS[i] as string] = String(value);
  }
  return hash;
}
