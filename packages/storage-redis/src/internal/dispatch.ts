/**
 * Store events as they arrive on the subscriber: each pub/sub message decoded
 * once and given to the store's listeners; a partition's hints kept for its
 * view; a `handed` event for a worker this instance parked given with its
 * claim (read here when the flow was too large to travel in the event).
 *
 * @module
 */
import type { ClaimedFlow, StoreEvent } from '@ergon/core';
import { claimedFlow, claimedFromHash } from './claimed.js';
import { decodeEvent, finishedEvents } from './codec.js';
import type { StoreCore } from './core.js';
import { hintOf } from './hints.js';
import { HOME } from './partitions.js';

/** Handles one message of the events channel `channel`. */
export function dispatch(core: StoreCore, channel: string, message: string): void {
  if (core.partitioned) {
    const p = core.layout.ofChannel(channel);
    const hint = p === undefined ? undefined : hintOf(message);
    if (p !== undefined && hint) core.tracker.hint(p, hint, 'event');
  }
  if (core.listeners.size === 0) return;
  const finished = finishedEvents(message);
  if (finished) {
    for (const event of finished) emit(core, event);
    return;
  }
  const event = decodeEvent(message, (workerId, flat) =>
    core.parked.has(workerId) && flat !== undefined ? claimedFlow(core, HOME, flat) : undefined,
  );
  if (!event) return;
  if (event.type === 'handed' && !event.claimed && core.parked.has(event.workerId)) {
    // A large flow was handed without its fields (scripts/includes/park.lua): read them here.
    readHanded(core, event.flowId, event.workerId).then(
      (claimed) => emit(core, claimed ? { ...event, claimed } : event),
      () => emit(core, event),
    );
    return;
  }
  emit(core, event);
}

/** Gives `event` to the store's listeners (through the runtime wrapper, which isolates one that throws). */
function emit(core: StoreCore, event: StoreEvent): void {
  for (const listener of core.listeners) listener(event);
}

/**
 * The claim of a flow handed to `workerId` without its fields, as the flow is now: undefined when
 * it no longer runs under that worker (its short hand-off lease ran out and another took it).
 */
async function readHanded(core: StoreCore, flowId: string, workerId: string): Promise<ClaimedFlow | undefined> {
  const hash = await core.client.hgetall(core.layout.keys(HOME).flow(flowId));
  if (hash.status !== 'running' || hash.owner !== workerId) return undefined;
  return claimedFromHash(core, HOME, hash);
}
