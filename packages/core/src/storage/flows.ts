/**
 * The storage contract's requests about whole flows, from any process
 * ({@link ExecutionLog}): create one (optionally claiming it), signal it,
 * cancel it, purge finished ones.
 *
 * @module
 */
import type { StoreCallOptions } from './call-options.js';
import type { ExecutionLog } from './execution-log.js';
import type { ClaimedFlow } from './leases.js';
import type { DebounceOption, DedupOption } from './queues.js';
import type { FlowRecord } from './records.js';

/** Input of {@link ExecutionLog.createFlow}. */
export interface NewFlow extends StoreCallOptions {
  /** The flow's id: unique in the store; creating an existing id returns that flow unchanged. */
  readonly id: string;
  /** The flow type's registered name; only workers that know it claim the flow. */
  readonly type: string;
  /** The queue it waits in; workers claim from the queues they are given. */
  readonly queue: string;
  /** Encoded input. */
  readonly input: string;
  /** Higher is claimed first among ready flows of a queue. */
  readonly priority: number;
  /** When it may first run. */
  readonly runAt: number;
  /** The parent flow, for a child flow; the parent is woken when this one finishes. */
  readonly parentId?: string | undefined;
  /** The W3C `traceparent` of its creator, so every run of the flow joins that trace. */
  readonly traceContext?: string | undefined;
  /**
   * Flow control (stores with `capabilities.flowControl`, see `queues.ts`): the key whose
   * running flows are limited and whose queued flows are served fairly against other keys.
   */
  readonly concurrencyKey?: string | undefined;
  /** At most this many running flows of the queue with this flow's key (1: a singleton that waits). */
  readonly concurrencyLimit?: number | undefined;
  /** Returns the flow created with the same key within the period instead of creating one. */
  readonly dedup?: DedupOption | undefined;
  /**
   * Collapses a burst: while the flow created with this key has not started, a create with
   * the key replaces its input and moves its start to `now + delayMs` (never past the first
   * call's `createdAt + maxWaitMs`) and returns it; otherwise a new flow starts after `delayMs`.
   */
  readonly debounce?: DebounceOption | undefined;
  /** The caller's current time (ms since epoch): stores never read a clock of their own. */
  readonly now: number;
  /**
   * Optional: the caller runs the flow now. When this call creates the flow and a claim of it
   * would take it at `now`, the flow is claimed for `workerId` as
   * `claim({ workerId, types: [type], queues: [queue], limit: 1, leaseMs, now, flowId: id })`
   * would (flow-control rules included), and the result carries the claim. An existing flow is
   * returned as it is, unclaimed. Stores with `capabilities.claimOnCreate` do both in one atomic
   * step; for others the runtime wrapper claims right after creating.
   */
  readonly claim?: CreateClaim | undefined;
}

/** The claim a {@link NewFlow} asks for (`NewFlow.claim`). */
export interface CreateClaim {
  /** The claiming worker, recorded as the lease owner. */
  readonly workerId: string;
  /** Length of the lease. */
  readonly leaseMs: number;
}

/** What {@link ExecutionLog.createFlow} reports. */
export interface CreateFlowResult {
  /** The flow as stored: the new one (running when claimed), or the existing one with that id. */
  readonly flow: FlowRecord;
  /** True when this call created it. */
  readonly created: boolean;
  /** The claim, when the request asked for one (`NewFlow.claim`) and the new flow was claimable. */
  readonly claimed?: ClaimedFlow | undefined;
}

/** What one create of {@link ExecutionLog.createFlows} did: its single call's result or error. */
export type CreateOutcome =
  | {
      /** The create succeeded. */
      readonly ok: true;
      /** What its single call returns. */
      readonly value: CreateFlowResult;
    }
  | {
      /** The create failed; the others of the call are unaffected. */
      readonly ok: false;
      /** What its single call throws. */
      readonly error: unknown;
    };

/** Input of {@link ExecutionLog.sendSignal}. */
export interface SendSignalRequest extends StoreCallOptions {
  /** The flow to signal. */
  readonly flowId: string;
  /** The signal name; the flow receives it with `waitForSignal(name)`. */
  readonly name: string;
  /** Encoded payload. */
  readonly payload: string;
  /** The caller's current time (ms), recorded as `sentAt`. */
  readonly now: number;
}

/** Input of {@link ExecutionLog.requestCancel}. */
export interface CancelRequest extends StoreCallOptions {
  /** The flow to cancel. */
  readonly flowId: string;
  /** Encoded reason (a `FlowCancelledError`), stored as the flow's error. */
  readonly error: string;
  /** The caller's current time (ms). */
  readonly now: number;
}

/** Input of {@link ExecutionLog.purge}. */
export interface PurgeRequest extends StoreCallOptions {
  /** Purge terminal flows finished before this time (ms). */
  readonly finishedBefore: number;
  /** At most this many flows per call (≥ 1). */
  readonly limit: number;
}
