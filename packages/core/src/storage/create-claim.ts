/**
 * A create's claim (`NewFlow.claim`) as the claim by id it stands for, for
 * stores implementing `capabilities.claimOnCreate` and for the runtime wrapper.
 *
 * @module
 */
import type { NewFlow } from './flows.js';
import type { ClaimRequest } from './leases.js';

/**
 * The claim of the new flow `flow` asks for, as `claim({ ..., flowId })` takes it; undefined when it
 * asks for none or is not due at its `now` (a flow due later is created unclaimed).
 */
export function claimOfNew(flow: NewFlow): ClaimRequest | undefined {
  const { claim } = flow;
  if (claim === undefined || flow.runAt > flow.now) return undefined;
  return {
    workerId: claim.workerId,
    leaseMs: claim.leaseMs,
    types: [flow.type],
    queues: [flow.queue],
    limit: 1,
    now: flow.now,
    flowId: flow.id,
  };
}
