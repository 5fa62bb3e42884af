/**
 * The claim script's arguments (`scripts/claim-1.lua`, and the next claims of finishes:
 * finish-claim, apply-claim), and the park flag that asks it to park the worker.
 *
 * @module
 */
import type { ClaimRequest } from '@ergon/core';
import type { StoreCore } from './core.js';
import { HOME } from './partitions.js';

/** The longest lease a hand-off takes: a flow whose `handed` event was lost runs again soon. */
export const HAND_OFF_LEASE_MS = 2000;
/** How long a worker stays parked without claiming again (an idle worker claims every `maxIdle`). */
const PARK_MS = 15_000;

/** The claim-script arguments after the key base, for one partition. */
export function claimArgs(
  request: ClaimRequest,
  p: number,
  limit: number,
  queues: readonly string[],
  quota: number | undefined,
  report: boolean,
  park = '',
): string[] {
  const flags = `${p === HOME ? 'h' : ''}${report ? 'r' : ''}${park}`;
  return [
    request.workerId,
    String(limit),
    String(request.now + request.leaseMs),
    String(request.now),
    flags,
    String(queues.length),
    ...queues.flatMap((q) => [q, quota === undefined ? '' : String(quota)]),
    ...request.types,
  ];
}

/**
 * The arguments of `request` claimed in the home partition of a store of one partition, without
 * report: its worker parked as it asks (which this instance then remembers, {@link parkFlag}).
 */
export function homeClaimArgs(core: StoreCore, request: ClaimRequest): string[] {
  return claimArgs(request, HOME, request.limit, request.queues, undefined, false, parkFlag(core, request));
}

/**
 * The claim script's park flag (`scripts/includes/park.lua`) for a claim that asks to park. The
 * worker is remembered as parked before the claim is sent: a `handed` event can come before the
 * claim's reply.
 */
function parkFlag(core: StoreCore, request: ClaimRequest): string {
  if (request.park !== true || !core.handsOff) return '';
  core.parked.add(request.workerId);
  const leaseMs = Math.min(request.leaseMs, HAND_OFF_LEASE_MS);
  return `p${Math.ceil(leaseMs)}:${Math.ceil(request.now + PARK_MS)}`;
}
