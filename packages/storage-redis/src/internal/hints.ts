/**
 * Claim-order hints for the partition views (`tracker.ts`): from another
 * process's `ready` event (which carries the flow's type, priority and
 * ready-set member, `includes/events.lua`), and from flows this store created
 * or holds.
 *
 * @module
 */
import type { FlowRecord } from '@ergon/core';
import type { HeldFlow } from './held.js';
import type { Entry, Hint } from './tracker.js';

/** A time as the 16 zero-padded digits the ready-set members start with (`orderPart` in keys.lua). */
export function orderPart(ms: number): string {
  const n = Math.min(Math.max(Math.floor(ms) || 0, 0), Number.MAX_SAFE_INTEGER);
  return String(n).padStart(16, '0');
}

/** An entry as a claim script reports its best: score (-priority) and member. */
export function reportedEntry(score: string, member: string): Entry {
  return { priority: -Number(score), member, at: Number(member.slice(0, 16)) };
}

/** The hint of a `ready` event, or undefined for another event. */
export function hintOf(message: string): Hint | undefined {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(message) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (event.type !== 'ready' || typeof event.queue !== 'string') return undefined;
  const at = typeof event.at === 'number' ? event.at : 0;
  if (typeof event.t !== 'string' || typeof event.m !== 'string' || typeof event.p !== 'number') {
    // The queue's flows changed in a way the event does not say (new limits, an older writer).
    return { queue: event.queue };
  }
  return { queue: event.queue, type: event.t, entry: { priority: event.p, member: event.m, at } };
}

/** The hint of a flow this store created or imported, when it waits to be claimed by time. */
export function flowHint(flow: FlowRecord): Hint | undefined {
  if ((flow.status !== 'pending' && flow.status !== 'suspended') || flow.runAt === undefined)
    return undefined;
  const place = flow.fairTag ?? flow.runAt;
  return {
    queue: flow.queue,
    type: flow.type,
    entry: { priority: flow.priority, member: orderPart(place) + flow.id, at: flow.runAt },
  };
}

/**
 * The hint of a held flow whose run stopped: claimable again at `at` when given (released, or
 * suspended on a timer), and no longer due at its lease expiry.
 */
export function heldHint(id: string, held: HeldFlow | undefined, at?: number): Hint {
  if (!held) return at === undefined ? { stopped: true } : {};
  return {
    queue: held.queue,
    type: held.type,
    stopped: true,
    entry: at === undefined ? undefined : { priority: held.priority, member: orderPart(at) + id, at },
  };
}
