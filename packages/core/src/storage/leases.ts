/**
 * The storage contract's claims and leases ({@link ExecutionLog}): claiming
 * ready flows, the fencing token every write of a claim carries, renewing and
 * releasing the lease, and when a flow next becomes claimable.
 *
 * @module
 */
import type { StoreCallOptions } from './call-options.js';
import type { ExecutionLog } from './execution-log.js';
import type { FlowRecord } from './records.js';

/** Input of {@link ExecutionLog.claim}. */
export interface ClaimRequest extends StoreCallOptions {
  /** The claiming worker, recorded as the lease owner. */
  readonly workerId: string;
  /** Only flows of these types (non-empty, no duplicates). */
  readonly types: readonly string[];
  /** Only flows in these queues (non-empty, no duplicates). */
  readonly queues: readonly string[];
  /** At most this many flows: 1 to {@link MAX_CLAIM_LIMIT}. */
  readonly limit: number;
  /** Length of the lease taken on each claimed flow. */
  readonly leaseMs: number;
  /** The caller's current time (ms): flows due by then are claimable; leases run from it. */
  readonly now: number;
  /** Optional: claim only this flow (it must still be ready and match types and queues). */
  readonly flowId?: string | undefined;
  /**
   * Optional, for stores with `capabilities.handOff` (others ignore it): when this claim takes
   * fewer than `limit` flows, the worker is parked with the slots left, until its next claim
   * (or `removeWorker`, or at most a minute without a claim). A flow created meanwhile that it
   * could claim, due now, in a queue without limits and with no older flow due before it, is
   * then claimed for it by the create itself and announced by a `handed` event: one round trip
   * fewer between enqueue and start. The lease such a claim takes is at most 2 s, so a flow
   * whose event was lost runs again soon (the worker's run renews it in time).
   */
  readonly park?: boolean | undefined;
}

/** The most flows one {@link ExecutionLog.claim} call takes. */
export const MAX_CLAIM_LIMIT = 1000;

/** A flow claimed by a worker, with the token its writes must carry. */
export interface ClaimedFlow {
  /** The flow as claimed: status `running`, lease owner and expiry set. */
  readonly flow: FlowRecord;
  /** The fencing token of this claim: every write for the flow must carry it until the lease ends. */
  readonly token: number;
}

/** Who is writing: the flow and the fencing token of the claim. */
export interface LeaseRef {
  /** The flow written to. */
  readonly flowId: string;
  /** The fencing token of the writer's claim; a stale one is refused with `LEASE_LOST`. */
  readonly token: number;
}

/** Input of {@link ExecutionLog.renewLease}. */
export interface RenewRequest extends LeaseRef, StoreCallOptions {
  /** The lease runs until `now + leaseMs`. */
  readonly leaseMs: number;
  /** The caller's current time (ms). */
  readonly now: number;
}

/** What {@link ExecutionLog.renewLease} reports. */
export interface RenewResult {
  /** True when `client.cancel` was called while running: abort and finish as cancelled. */
  readonly cancelRequested: boolean;
}

/** Input of {@link ExecutionLog.releaseLease}. */
export interface ReleaseRequest extends LeaseRef, StoreCallOptions {
  /** The caller's current time (ms): the flow is claimable again from then (or `retryAt`). */
  readonly now: number;
  /**
   * Why the run is given up (an encoded error), when it is abandoned rather than handed over:
   * stored as the flow's `lastError`, and the run counts in its `abandonedRuns`.
   */
  readonly error?: string | undefined;
  /** When the flow may be claimed again (a backoff); default `now`. */
  readonly retryAt?: number | undefined;
}

/** Input of {@link ExecutionLog.nextWakeAt}. */
export interface WakeFilter extends StoreCallOptions {
  /** Non-empty, no duplicates. */
  readonly types: readonly string[];
  /** Non-empty, no duplicates. */
  readonly queues: readonly string[];
}
