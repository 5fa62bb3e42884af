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
import type { ClaimedFlow, ClaimRequest, LeaseRef, RenewRequest, SuspendResult } from '@ergon/core';
import type { TraceEntry } from './trace.js';
import { Invariant, type Violation } from './violations.js';

const FENCED = new Set(['renewLease', 'recordOperation', 'consumeSignal', 'suspend', 'finishFlow']);

/** An answer after which `token` (and every older token) of a flow is stale. */
interface TokenEnd {
  readonly token: number;
  readonly entry: TraceEntry;
  /** A newer claim, or the holder's own finish, suspension or release. */
  readonly by: 'claim' | 'holder';
}

/** A token handed out by a claim, with the lease it came with. */
interface Grant {
  readonly token: number;
  readonly entry: TraceEntry;
  readonly leaseExpiresAt: number;
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

/** Checks fencing and claims of every flow in the trace. */
export function checkLeases(entries: readonly TraceEntry[], options: LeaseCheckOptions = {}): Violation[] {
  const grants = new Map<string, Grant[]>();
  const ends = new Map<string, TokenEnd[]>();
  for (const e of entries) {
    if (!e.ok) continue;
    if (e.method === 'claim') {
      for (const c of e.value as ClaimedFlow[]) {
        add(grants, c.flow.id, { token: c.token, entry: e, leaseExpiresAt: c.flow.leaseExpiresAt ?? 0 });
        add(ends, c.flow.id, { token: c.token - 1, entry: e, by: 'claim' });
      }
    } else if (
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
  for (const [flowId, list] of grants)
    violations.push(...checkClaims(flowId, list, ends.get(flowId) ?? [], entries, options));
  return violations;
}

/** A claim of token t + 1 while token t certainly held a live lease. */
function checkClaims(
  flowId: string,
  grants: readonly Grant[],
  ends: readonly TokenEnd[],
  entries: readonly TraceEntry[],
  options: LeaseCheckOptions,
): Violation[] {
  const violations: Violation[] = [];
  for (const grant of grants) {
    const before = grants.find((g) => g.token === grant.token - 1);
    const claim = grant.entry;
    if (!before || !answeredBefore(before.entry, claim)) continue;
    // The holder may have let go before this claim took effect: no blame.
    const released = ends.some(
      (x) => x.by === 'holder' && x.token === before.token && x.entry.invokedAt < (claim.settledAt ?? 0),
    );
    const holder = (before.entry.request as ClaimRequest).workerId;
    const maybeReaped =
      reaped(entries, holder, claim) ||
      (options.lapseMs !== undefined && !heardFrom(entries, holder, claim, options.lapseMs));
    if (released || maybeReaped) continue;
    let expiresAt = before.leaseExpiresAt;
    for (const e of entries) {
      if (e.method !== 'renewLease' || !e.ok || !answeredBefore(e, claim)) continue;
      const renew = e.request as RenewRequest;
      if (renew.flowId === flowId && renew.token === before.token)
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
 * Whether the worker registry may have declared `holder` dead (and expired its
 * leases) before `claim` took effect: a heartbeat that reaped it, or its removal.
 */
function reaped(entries: readonly TraceEntry[], holder: string, claim: TraceEntry): boolean {
  return entries.some((e) => {
    if (e.invokedAt >= (claim.settledAt ?? 0)) return false;
    if (e.method === 'removeWorker') {
      const request = e.request as { workerId?: string; expireLeases?: boolean };
      return request.workerId === holder && request.expireLeases === true;
    }
    if (e.method !== 'heartbeatWorker') return false;
    // A heartbeat whose answer never came may have taken effect: it may have reaped anyone.
    if (!e.ok) return true;
    return ((e.value as { reaped?: string[] }).reaped ?? []).includes(holder);
  });
}

/** Whether `holder` heartbeated, answered before `claim` was sent, less than `lapseMs` before `claim` was answered. */
function heardFrom(
  entries: readonly TraceEntry[],
  holder: string,
  claim: TraceEntry,
  lapseMs: number,
): boolean {
  return entries.some((e) => {
    if (e.method !== 'heartbeatWorker' || !e.ok || !answeredBefore(e, claim)) return false;
    const beat = e.request as { now?: number; worker?: { id?: string } };
    return beat.worker?.id === holder && (beat.now ?? 0) > (claim.settledAt ?? 0) - lapseMs;
  });
}

/** True when `a` was answered before `b` was sent: `a` certainly took effect first. */
function answeredBefore(a: TraceEntry, b: TraceEntry): boolean {
  return a.settledAt !== undefined && a.settledAt < b.invokedAt;
}

function describe(e: TraceEntry): string {
  return `${e.method} #${e.id} by ${e.caller}`;
}

function add<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
