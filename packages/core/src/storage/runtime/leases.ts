/**
 * The runtime wrapper's claims and leases: each request checked once, a
 * claim's limit capped at {@link MAX_CLAIM_LIMIT}, and a claim or wake-up
 * query with nothing to match answered without asking the store. The request
 * is passed on as it is unless a check normalised part of it.
 *
 * @module
 */
import type { ExecutionLog } from '../execution-log.js';
import {
  type ClaimedFlow,
  type ClaimRequest,
  MAX_CLAIM_LIMIT,
  type ReleaseRequest,
  type RenewRequest,
  type RenewResult,
  type WakeFilter,
} from '../leases.js';
import { checkClaim, checkLease, checkOptionalText, checkTime, checkWakeFilter } from './validate.js';

/** Checks a claim and passes it on; a limit of 0, or no types or queues, claims nothing. */
export function claimChecked(inner: ExecutionLog, request: ClaimRequest): Promise<ClaimedFlow[]> {
  const { types, queues } = checkClaim(request);
  if (request.limit === 0 || types.length === 0 || queues.length === 0) return Promise.resolve([]);
  const limit = Math.min(request.limit, MAX_CLAIM_LIMIT);
  const same = types === request.types && queues === request.queues && limit === request.limit;
  return inner.claim(same ? request : { ...request, types, queues, limit });
}

/** Checks a renewal and passes it on. */
export function renewChecked(inner: ExecutionLog, request: RenewRequest): Promise<RenewResult> {
  checkLease(request);
  checkTime(request.leaseMs, 'leaseMs');
  checkTime(request.now, 'now');
  return inner.renewLease(request);
}

/** Checks a release and passes it on. */
export function releaseChecked(inner: ExecutionLog, request: ReleaseRequest): Promise<void> {
  checkLease(request);
  checkTime(request.now, 'now');
  checkOptionalText(request.error, 'release error');
  if (request.retryAt !== undefined) checkTime(request.retryAt, 'retryAt');
  return inner.releaseLease(request);
}

/** Checks a wake-up query and passes it on; no types or queues: undefined. */
export function nextWakeChecked(inner: ExecutionLog, filter: WakeFilter): Promise<number | undefined> {
  const { types, queues } = checkWakeFilter(filter);
  if (types.length === 0 || queues.length === 0) return Promise.resolve(undefined);
  const same = types === filter.types && queues === filter.queues;
  return inner.nextWakeAt(same ? filter : { ...filter, types, queues });
}
