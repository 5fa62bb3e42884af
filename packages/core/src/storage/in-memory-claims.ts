/**
 * The in-memory store's creates and claims: a create folds into an existing
 * flow (same id, de-duplication, debounce) or makes a new one, claiming it at
 * once when asked (`NewFlow.claim`); a claim takes ready flows in the order
 * flow control decides.
 *
 * @module
 */
import { claimOfNew } from './create-claim.js';
import type { CreateFlowResult, NewFlow } from './flows.js';
import type { MemoryCore } from './in-memory-core.js';
import { claimableAt, newFlowRecord, setClaimed, snapshot } from './in-memory-state.js';
import type { ClaimedFlow, ClaimRequest } from './leases.js';

/** Implements `createFlow` (synchronously, so a batch of creates is the single calls in order). */
export function createIn(core: MemoryCore, input: NewFlow): CreateFlowResult {
  const existing = core.flows.get(input.id);
  if (existing) return { flow: snapshot(existing), created: false };
  const folded = core.control.fold(input, core.flows);
  if (folded) return { flow: snapshot(folded), created: false };
  const flow = newFlowRecord(input);
  core.control.created(flow, input);
  core.flows.set(flow.id, flow);
  const runAt = flow.runAt ?? input.runAt;
  const asked = claimOfNew(input);
  const [claimed] = asked ? claimIn(core, asked) : [];
  if (claimed) return { flow: claimed.flow, created: true, claimed };
  core.emit({ type: 'ready', queue: flow.queue, at: runAt > input.now ? runAt : undefined });
  return { flow: snapshot(flow), created: true };
}

/** Implements `claim`. */
export function claimIn(core: MemoryCore, request: ClaimRequest): ClaimedFlow[] {
  const { now } = request;
  const only = request.flowId === undefined ? undefined : core.flows.get(request.flowId);
  const candidates = request.flowId === undefined ? [...core.flows.values()] : only ? [only] : [];
  const ready = candidates.filter(
    (f) => request.types.includes(f.type) && request.queues.includes(f.queue) && claimableAt(f, now),
  );
  const chosen = core.control.choose(ready, request, core.flows.values());
  return chosen.map((flow) => {
    if (core.control.controls(flow.queue)) core.control.started(flow, now);
    setClaimed(flow, request.workerId, now, request.leaseMs);
    return { flow: snapshot(flow), token: flow.fencingToken };
  });
}
