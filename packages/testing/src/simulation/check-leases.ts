/**
 * Lease checks over the trace. The trace gives each call the moments it was
 * sent and answered on one counter; a call answered before another was sent
 * certainly took effect first, whatever the store. Only such certain orders
 * are used, so a check never blames a store for a race it may have ordered
 * either way.
 *
 * - Fenced writes: once a claim handed out a newer token, or a finish, a
 *   suspension or a release ended the lease, a write with the old token must
 *   be refused; and only tokens some claim handed out are accepted.
 * - Claims: a running flow is claimed only once its lease has expired (or
 *   the worker registry declared its holder dead).
 *
 * @module
 */
import {
  type ClaimedFlow,
  type CreateFlowResult,
  ErrorCode,
  type FinishResult,
  type LeaseRef,
  type SuspendResult,
} from '@ergon/core';
import { checkClaims, indexRegistry } from './check-claims.js';
import type { TraceEntry } from './trace.js';
import { Invariant, type Violation } from './violations.js';

const FENCED = new Set([
  'renewLease',
  'recordOperation',
  'consumeSignal',
  'setProgress',
  'suspend',
  'finishFlow',
]);
/** Calls with which a holder ends its own lease. */
const HOLDER_ENDS = new Set(['finishFlow', 'releaseLease', 'suspend']);
/** Errors that say a call certainly took no effect. */
const REFUSED = new Set<string>([ErrorCode.LEASE_LOST, ErrorCode.FLOW_NOT_FOUND]);

/** An answer after which `token` (and every older token) of a flow is stale. */
export interface TokenEnd {
  readonly token: number;
  readonly entry: TraceEntry;
  /** A newer claim, or the holder's own finish, suspension or release. */
  readonly by: 'claim' | 'holder';
}

/** A token handed out by a claim, with the lease it came with. */
export interface Grant {
  readonly token: number;
  readonly entry: TraceEntry;
  readonly leaseExpiresAt: number;
  /** The worker the lease went to (a hand-off's is not the creator: the flow's lease owner). */
  readonly holder: string | undefined;
}

/** Options of {@link checkLeases}. */
export interface LeaseCheckOptions {
  /**
   * How to tell whether the worker registry may have declared a lease holder
   * dead before a claim (its leases then expire at once). By default, from the
   * heartbeat replies that name the workers they reaped (exact when every
   * reply seen is the store's own, as in the simulation). Where a client
   * resends a call transparently after a lost connection, a reply may come
   * from a second run that reaped nobody: give the registry's lapse (ms, on the
   * clock the trace's times are on) and a holder counts as possibly reaped
   * also when none of its own heartbeats answered before the claim was sent
   * is less than the lapse old when the claim was answered. Removals of a
   * worker (a process found gone) count whatever their answer.
   */
  readonly lapseMs?: number;
}

/** The claim a create made, for its creator (`NewFlow.claim`) or for a parked worker (`handed`). */
function createGrant(result: CreateFlowResult): ClaimedFlow[] | undefined {
  if (result.claimed) return [result.claimed];
  const { flow } = result;
  return result.created && flow.status === 'running' ? [{ flow, token: flow.fencingToken }] : undefined;
}

/** Checks fencing and claims of every flow in the trace. */
export function checkLeases(entries: readonly TraceEntry[], options: LeaseCheckOptions = {}): Violation[] {
  const grants = new Map<string, Grant[]>();
  const ends = new Map<string, TokenEnd[]>();
  const attempts = new Map<string, TokenEnd[]>();
  for (const e of entries) {
    if (!e.ok) {
      if (HOLDER_ENDS.has(e.method) && !REFUSED.has(e.error ?? '')) {
        const { flowId, token } = e.request as LeaseRef;
        add(attempts, flowId, { token, entry: e, by: 'holder' });
      }
      continue;
    }
    // A claim, or a create that claimed its new flow (`NewFlow.claim`, or a hand-off to a parked
    // worker: the new flow comes back running).
    // A finish that claimed its worker's next flows (`FinishRequest.next`) ends its own lease too.
    const claimed =
      e.method === 'claim'
        ? (e.value as ClaimedFlow[])
        : e.method === 'createFlow'
          ? createGrant(e.value as CreateFlowResult)
          : e.method === 'finishFlow'
            ? (e.value as FinishResult | undefined)?.claimed
            : undefined;
    if (claimed) {
      for (const c of claimed) {
        add(grants, c.flow.id, {
          token: c.token,
          entry: e,
          leaseExpiresAt: c.flow.leaseExpiresAt ?? 0,
          holder: c.flow.leaseOwner,
        });
        add(ends, c.flow.id, { token: c.token - 1, entry: e, by: 'claim' });
      }
    }
    if (
      e.method === 'finishFlow' ||
      e.method === 'releaseLease' ||
      (e.method === 'suspend' && (e.value as SuspendResult).outcome !== 'ready')
    ) {
      const { flowId, token } = e.request as LeaseRef;
      add(ends, flowId, { token, entry: e, by: 'holder' });
    }
  }
  const violations: Violation[] = [];
  for (const e of entries) {
    if (!e.ok || !FENCED.has(e.method)) continue;
    const { flowId, token } = e.request as LeaseRef;
    const end = ends.get(flowId)?.find((x) => x.token >= token && answeredBefore(x.entry, e));
    if (end) {
      violations.push({
        invariant: Invariant.FENCED_WRITES,
        flowId,
        detail:
          `${describe(e)} with token ${token} was accepted after ${describe(end.entry)} ` +
          `${end.by === 'claim' ? 'handed out a newer token' : 'ended that lease'}`,
      });
    }
    if (!grants.get(flowId)?.some((g) => g.token === token && g.entry.invokedAt <= e.invokedAt)) {
      violations.push({
        invariant: Invariant.FENCED_WRITES,
        flowId,
        detail: `${describe(e)} with token ${token} was accepted though no claim had handed that token out`,
      });
    }
  }
  const registry = indexRegistry(entries);
  for (const [flowId, list] of grants) {
    violations.push(
      ...checkClaims({
        flowId,
        grants: list,
        ends: ends.get(flowId) ?? [],
        attempts: attempts.get(flowId) ?? [],
        registry,
        options,
      }),
    );
  }
  return violations;
}

/** True when `a` was answered before `b` was sent: `a` certainly took effect first. */
export function answeredBefore(a: TraceEntry, b: TraceEntry): boolean {
  return a.settledAt !== undefined && a.settledAt < b.invokedAt;
}

/** `method #id by caller`. */
export function describe(e: TraceEntry): string {
  return `${e.method} #${e.id} by ${e.caller}`;
}

function add<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
