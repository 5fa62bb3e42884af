/**
 * The events a store may emit ({@link ExecutionLog.subscribe}, when
 * `capabilities.events`), so idle workers and result waiters wake without
 * polling.
 *
 * @module
 */
import type { ExecutionLog } from './execution-log.js';
import type { ClaimedFlow } from './leases.js';
import type { FlowStatus } from './records.js';

/** An event a store may emit ({@link ExecutionLog.subscribe}) so idle workers wake without polling. */
export type StoreEvent =
  /** A flow became claimable now, or at `at` when given. */
  | {
      /** Discriminant. */
      readonly type: 'ready';
      /** The queue the flow is in (workers of other queues ignore the event). */
      readonly queue: string;
      /** When it becomes claimable (ms), if later than now. */
      readonly at?: number | undefined;
    }
  /** A flow reached a terminal state. */
  | {
      /** Discriminant. */
      readonly type: 'finished';
      /** The flow. */
      readonly flowId: string;
      /** Its terminal status. */
      readonly status: FlowStatus;
    }
  /** Cancellation was requested for a running flow: its worker stops it now. */
  | {
      /** Discriminant. */
      readonly type: 'cancel-requested';
      /** The flow to stop. */
      readonly flowId: string;
    }
  /** A running flow reported progress ({@link ExecutionLog.setProgress}): read its record for the value. */
  | {
      /** Discriminant. */
      readonly type: 'progress';
      /** The flow whose progress changed. */
      readonly flowId: string;
    }
  /**
   * A new flow was claimed for a parked worker as it was created (`capabilities.handOff`, a
   * claim with `park`): that worker runs it without a claim of its own. Instead of `ready`.
   */
  | {
      /** Discriminant. */
      readonly type: 'handed';
      /** The flow. */
      readonly flowId: string;
      /** The worker it was claimed for: the lease owner. */
      readonly workerId: string;
      /**
       * The claim, as `claim` would have returned it: given only to the listeners of the store
       * instance whose claim parked the worker (elsewhere the event only says that the flow runs).
       */
      readonly claimed?: ClaimedFlow | undefined;
    };

/** A listener of store events. */
export type StoreListener = (event: StoreEvent) => void;
