/**
 * A claimed flow as the claim scripts return it (claim, claim-flow): the values of
 * {@link CLAIMED_FIELDS} in that order, null for a field the hash lacks, the trailing ones it
 * lacks left out; what the claim wrote from its caller's arguments (status, owner, lease,
 * waits, updatedAt) is not sent. Every field's name and value used to come back, each a
 * conversion in Redis and a parse here (see `scripts/includes/claim.lua`). Read back into
 * {@link ClaimedFlow}s, which this store then holds (`held.ts`).
 *
 * @module
 */
import type { ClaimedFlow, ClaimRequest } from '@ergon/core';
import { pairs, toFlowRecord } from './codec.js';
import type { StoreCore } from './core.js';

/**
 * The fields of a claim's reply, in its order. Mirror of `CLAIMED_AT` in
 * `scripts/includes/claim.lua` (its first `CLAIMED_SENT`): change both together.
 */
export const CLAIMED_FIELDS = [
  'token',
  'runs',
  'queue',
  'type',
  'runAt',
  'id',
  'input',
  'cancel',
  'createdAt',
  // Most flows have none of these but the last: the reply ends at the last one the flow has.
  'abandons',
  'rm',
  'adm',
  'priority',
  'ord',
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

/** A claim's reply for one flow as the flow's hash after the claim (`request`: the claim's). */
export function claimedHash(row: unknown, request: ClaimRequest): Record<string, string> {
  const hash: Record<string, string> = {
    status: 'running',
    owner: request.workerId,
    lease: String(request.now + request.leaseMs),
    waits: '[]',
    updatedAt: String(request.now),
  };
  if (!Array.isArray(row)) return hash;
  const n = Math.min(row.length, CLAIMED_FIELDS.length);
  for (let i = 0; i < n; i++) {
    const value: unknown = row[i];
    if (value !== null && value !== undefined) hash[CLAIMED_FIELDS[i] as string] = String(value);
  }
  return hash;
}

/** Reads a claimed flow's hash, remembering where it lives and that this store holds it. */
export function claimedFlow(core: StoreCore, p: number, flat: unknown): ClaimedFlow {
  return claimedFromHash(core, p, pairs(flat));
}

/** {@link claimedFlow} from a claim script's reply for the flow to `request`. */
export function claimedRow(core: StoreCore, p: number, row: unknown, request: ClaimRequest): ClaimedFlow {
  return claimedFromHash(core, p, claimedHash(row, request));
}

/** {@link claimedRow} of each flow of a claim's reply (`rows`: the reply without its report). */
export function claimedRows(
  core: StoreCore,
  p: number,
  rows: readonly unknown[],
  request: ClaimRequest,
): ClaimedFlow[] {
  return rows.map((row) => claimedRow(core, p, row, request));
}

/** {@link claimedFlow} from the hash as an object. */
export function claimedFromHash(core: StoreCore, p: number, hash: Record<string, string>): ClaimedFlow {
  const flow = toFlowRecord(hash);
  if (!flow) throw new Error('claim returned an empty flow');
  core.router.remember(flow.id, p);
  core.held.set(flow.id, {
    partition: p,
    queue: flow.queue,
    type: flow.type,
    priority: flow.priority,
    token: flow.fencingToken,
    admitted:
      hash.adm === undefined ? undefined : { queue: hash.adm, member: `${flow.id}:${flow.fencingToken}` },
    plain:
      hash.parentId === undefined &&
      hash.abandons === undefined &&
      hash.lastError === undefined &&
      hash.error === undefined,
  });
  return { flow, token: flow.fencingToken };
}
