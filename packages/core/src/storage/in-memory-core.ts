/**
 * What the in-memory store's calls share: its flows, histories, flow control
 * and listeners, and the steps several calls take (the fencing check,
 * finishing a flow and waking its parent, waking a flow, expiring a worker's
 * leases, emitting events). Nothing here awaits, so each call that uses it
 * stays atomic.
 *
 * @module
 */
import { FlowNotFoundError, LeaseLostError } from './errors.js';
import { MemoryFlowControl } from './in-memory-flow-control.js';
import { MemoryHistory } from './in-memory-history.js';
import { anyResolved, type Mutable, setFinished } from './in-memory-state.js';
import type { LeaseRef } from './leases.js';
import type { FlowRecord, Wait } from './records.js';
import type { StoreEvent } from './store-events.js';

/** The state of one in-memory store. */
export class MemoryCore {
  /** Every flow, by id, changed in place. */
  readonly flows = new Map<string, Mutable<FlowRecord>>();
  /** Histories and buffered signals. */
  readonly history = new MemoryHistory();
  /** Queue limits, fair-queueing state, de-duplication and debounce keys. */
  readonly control = new MemoryFlowControl();
  /** Subscribers of store events. */
  readonly listeners = new Set<(event: StoreEvent) => void>();

  /** The running flow `lease` holds. @throws FlowNotFoundError, LeaseLostError. */
  owned(lease: LeaseRef): Mutable<FlowRecord> {
    const flow = this.flows.get(lease.flowId);
    if (!flow) throw new FlowNotFoundError(lease.flowId);
    if (flow.fencingToken !== lease.token || flow.status !== 'running') {
      throw new LeaseLostError(lease.flowId, lease.token);
    }
    return flow;
  }

  /** True when one of `waits` of the flow has resolved. */
  anyResolved(flowId: string, waits: readonly Wait[], now: number): boolean {
    return anyResolved(waits, now, this.history.pending(flowId), this.flows);
  }

  /** Moves `flow` to a terminal status, tells listeners, and wakes its parent if it waits on it. */
  finish(
    flow: Mutable<FlowRecord>,
    status: 'completed' | 'failed' | 'cancelled',
    now: number,
    values: { result?: string | undefined; error?: string | undefined },
  ): void {
    setFinished(flow, status, now, values);
    this.emit({ type: 'finished', flowId: flow.id, status });
    this.slotFreed(flow.queue);
    const parent = flow.parentId ? this.flows.get(flow.parentId) : undefined;
    if (
      parent?.status === 'suspended' &&
      parent.waits.some((w) => w.kind === 'child' && w.flowId === flow.id)
    ) {
      this.wake(parent, now);
    }
  }

  /** Makes a suspended flow claimable now. */
  wake(flow: Mutable<FlowRecord>, now: number): void {
    flow.runAt = now;
    flow.updatedAt = now;
    this.emit({ type: 'ready', queue: flow.queue });
  }

  /** A running flow of a controlled queue stopped: flows its limits held back may run now. */
  slotFreed(queue: string): void {
    if (this.control.controls(queue)) this.emit({ type: 'ready', queue });
  }

  /** Expires the leases `owner` holds; returns how many. */
  expireLeases(owner: string, now: number): number {
    let expired = 0;
    for (const flow of this.flows.values()) {
      if (flow.status !== 'running' || flow.leaseOwner !== owner || (flow.leaseExpiresAt ?? 0) <= now)
        continue;
      flow.leaseExpiresAt = now;
      expired++;
      this.emit({ type: 'ready', queue: flow.queue });
    }
    return expired;
  }

  /** Delivers `event` to every listener in a microtask, after the change that made it. */
  emit(event: StoreEvent): void {
    if (this.listeners.size === 0) return;
    queueMicrotask(() => {
      for (const listener of this.listeners) listener(event);
    });
  }
}
