/**
 * What a store can do beyond the required primitives of the storage contract
 * ({@link ExecutionLog}), as it declares it.
 *
 * @module
 */
import type { ExecutionLog } from './execution-log.js';
import type { StoreEvent } from './store-events.js';

/**
 * What a store can do beyond the required primitives of {@link ExecutionLog}. The conformance
 * suite skips the cases of a capability a store lacks, with the reason it declares.
 */
export interface StoreCapabilities {
  /** `subscribe` delivers {@link StoreEvent}s (else workers poll). */
  readonly events: boolean;
  /**
   * Queue limits, per-key concurrency, fairness, de-duplication and debounce
   * (`queues.ts`): `configureQueue` and `getQueueState` exist, and `claim` and
   * `createFlow` keep their rules.
   */
  readonly flowControl?: boolean | undefined;
  /**
   * `createFlow` and `createFlows` honour `NewFlow.claim` themselves, creating and claiming in one
   * atomic step (else the runtime wrapper claims right after the create).
   */
  readonly claimOnCreate?: boolean | undefined;
  /**
   * `finishFlow` (and a finish in `applyWrites`) honours `FinishRequest.next`: the worker's next
   * claim is made in the same call and its flows come back in the result (else the result has no
   * `claimed` and a worker claims on its own).
   */
  readonly finishClaims?: boolean | undefined;
  /**
   * A claim with `park` parks its worker, and creates hand new flows to parked workers
   * (claimed for them, announced by `handed` events: see `ClaimRequest.park`).
   */
  readonly handOff?: boolean | undefined;
}
