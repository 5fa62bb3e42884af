/**
 * The claim check: a running flow is claimed only once its lease has expired,
 * or once the worker registry may have declared its holder dead (which
 * expires the holder's leases at once). What the trace says about the
 * registry and renewals is indexed once, so the check stays linear in the
 * trace (a soak's trace has hundreds of thousands of calls).
 *
 * @module
 */
import type { ClaimRequest, NewFlow, RenewRequest } from '@ergon/core';
import {
  answeredBefore,
  describe,
  type Grant,
  type LeaseCheckOptions,
  type TokenEnd,
} from './check-leases.js';
import type { TraceEntry } from './trace.js';
import { Invariant, type Violation } from './violations.js';

/** The registry calls and renewals of a trace, by whom they concern. */
export interface RegistryIndex {
  /** Removals that expire a worker's leases, by removed worker, whatever their answer. */
  readonly removals: ReadonlyMap<string, readonly TraceEntry[]>;
  /** Answered heartbeats naming a worker they reaped, by reaped worker. */
  readonly reapedBy: ReadonlyMap<string, readonly TraceEntry[]>;
  /** Heartbeats that got no answer: they may have reaped anyone. */
  readonly unanswered: readonly TraceEntry[];
  /** Answered heartbeats of each worker itself. */
  readonly beats: ReadonlyMap<string, readonly TraceEntry[]>;
  /** Answered renewals, by `flowId#token`. */
  readonly renewals: ReadonlyMap<string, readonly TraceEntry[]>;
}

/** Indexes the registry calls and renewals of `entries`. */
export function indexRegistry(entries: readonly TraceEntry[]): RegistryIndex {
  const removals = new Map<string, TraceEntry[]>();
  const reapedBy = new Map<string, TraceEntry[]>();
  const beats = new Map<string, TraceEntry[]>();
  const renewals = new Map<string, TraceEntry[]>();
  const unanswered: TraceEntry[] = [];
  for (const e of entries) {
    if (e.method === 'removeWorker') {
      const request = e.request as { workerId?: string; expireLeases?: boolean };
      if (request.expireLeases === true && request.workerId !== undefined) add(removals, request.workerId, e);
    } else if (e.method === 'heartbeatWorker') {
      if (!e.ok) {
        unanswered.push(e);
        continue;
      }
      const self = (e.request as { worker?: { id?: string } }).worker?.id;
      if (self !== undefined) add(beats, self, e);
      for (const worker of (e.value as { reaped?: string[] }).reaped ?? []) add(reapedBy, worker, e);
    } else if (e.method === 'renewLease' && e.ok) {
      const renew = e.request as RenewRequest;
      add(renewals, `${renew.flowId}#${renew.token}`, e);
    }
  }
  return { removals, reapedBy, unanswered, beats, renewals };
}

/** What {@link checkClaims} looks at for one flow. */
export interface ClaimCheckInput {
  readonly flowId: string;
  readonly grants: readonly Grant[];
  readonly ends: readonly TokenEnd[];
  /**
   * The holder's own finishes, suspensions and releases that got no answer, or an error that
   * does not say they were refused (a lost reply, a process killed while waiting): each may
   * have taken effect.
   */
  readonly attempts: readonly TokenEnd[];
  readonly registry: RegistryIndex;
  readonly options: LeaseCheckOptions;
}

/** A claim of token t + 1 while token t certainly held a live lease. */
export function checkClaims({
  flowId,
  grants,
  ends,
  attempts,
  registry,
  options,
}: ClaimCheckInput): Violation[] {
  const violations: Violation[] = [];
  for (const grant of grants) {
    const before = grants.find((g) => g.token === grant.token - 1);
    const claim = grant.entry;
    if (!before || !answeredBefore(before.entry, claim)) continue;
    // The holder may have let go before this claim took effect: no blame.
    const letGo = (x: TokenEnd) =>
      x.by === 'holder' && x.token === before.token && x.entry.invokedAt < (claim.settledAt ?? 0);
    const released = ends.some(letGo) || attempts.some(letGo);
    if (released || maybeReaped(registry, before, claim, options)) continue;
    let expiresAt = before.leaseExpiresAt;
    for (const e of registry.renewals.get(`${flowId}#${before.token}`) ?? []) {
      if (!answeredBefore(e, claim)) continue;
      const renew = e.request as RenewRequest;
      expiresAt = Math.max(expiresAt, renew.now + renew.leaseMs);
    }
    const now = (claim.request as ClaimRequest).now;
    if (expiresAt > now) {
      violations.push({
        invariant: Invariant.CLAIM_UNDER_LEASE,
        flowId,
        detail:
          `${describe(claim)} took token ${grant.token} at ${now} while token ${before.token} ` +
          `(${describe(before.entry)}) held a lease until ${expiresAt}`,
      });
    }
  }
  return violations;
}

/**
 * Whether the registry may have declared the holder of `before` dead before
 * `claim` took effect: removed (a process found gone); or, by default, named by
 * a heartbeat's reply, or a heartbeat without an answer running meanwhile; or,
 * with `lapseMs`, not heard from within the lapse (see {@link LeaseCheckOptions}).
 */
function maybeReaped(
  registry: RegistryIndex,
  before: Grant,
  claim: TraceEntry,
  options: LeaseCheckOptions,
): boolean {
  // A claim names its worker; a create that claimed names it in `claim`, or handed the flow to
  // a parked worker, the flow's lease owner.
  const granted = before.entry.request as ClaimRequest & NewFlow;
  const holder = before.holder ?? granted.claim?.workerId ?? granted.workerId;
  const settled = claim.settledAt ?? 0;
  if ((registry.removals.get(holder) ?? []).some((e) => e.invokedAt < settled)) return true;
  if (options.lapseMs !== undefined) {
    const lapse = options.lapseMs;
    const heard = (registry.beats.get(holder) ?? []).some(
      (e) => answeredBefore(e, claim) && ((e.request as { now?: number }).now ?? 0) > settled - lapse,
    );
    return !heard;
  }
  if ((registry.reapedBy.get(holder) ?? []).some((e) => e.invokedAt < settled)) return true;
  return registry.unanswered.some(
    (e) => e.invokedAt < settled && (e.settledAt ?? Number.POSITIVE_INFINITY) > before.entry.invokedAt,
  );
}

function add(map: Map<string, TraceEntry[]>, key: string, entry: TraceEntry): void {
  const list = map.get(key);
  if (list) list.push(entry);
  else map.set(key, [entry]);
}
