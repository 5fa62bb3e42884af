/**
 * Flow control in the storage contract (DESIGN §9): per-queue limits kept in
 * the store, so every worker sees one configuration and the store enforces it
 * atomically at claim time; and the create-time options of a flow (its
 * concurrency key, de-duplication, debounce).
 *
 * The rules a store with `capabilities.flowControl` keeps:
 * - **Running** means status `running` with a lease that has not expired. Slots are
 *   never counted, so a worker that dies frees its slots when its leases expire
 *   (or at once, when the registry declares it dead): no counter drifts.
 * - **Queue concurrency**: a claim never leaves more than `concurrency` flows of
 *   the queue running.
 * - **Rate**: every claim of a flow of the queue is a start, logged at its effective
 *   time `t = max(now, newest start logged)`; a claim is refused while `rate.limit`
 *   starts are logged after `t - periodMs` (a sliding-window log). Logged times never go
 *   back, so no window of `periodMs` ever holds more, even when callers' clocks differ a
 *   little or their requests arrive out of order.
 * - **Key concurrency**: a flow with a `concurrencyKey` is not claimed while
 *   `concurrencyLimit` (the flow's own, else the queue's `keyConcurrency`) flows
 *   of the same queue and key run.
 * - **Fairness**: a flow created with a key gets a fair-queueing tag
 *   `max(V, last tag of its key) + STEP / weight`, where `V` is the queue's virtual time
 *   (the largest tag claimed so far); a queue with limits or keyed flows is claimed in
 *   order of priority, then tag (flows without a key have none and go first). A key with
 *   10,000 queued flows therefore holds tags far ahead of `V`, and another key's first
 *   flow, tagged just after `V`, is claimed next.
 *   A claim looks at a bounded number of candidates, so flows behind many flows that wait
 *   on their key's limit may wait for those to run.
 *
 * @module
 */
import type { StoreCallOptions } from './call-options.js';

/** The fair-queueing step of a key of weight 1; a key of weight w advances by `STEP / w`. */
export const FAIR_STEP = 1_000_000;

/** The largest weight a key may have ({@link FAIR_STEP}: a step of 1). */
export const MAX_KEY_WEIGHT = FAIR_STEP;

/** How many ready candidates one claim of a queue with limits examines at most, beyond its limit. */
export const FAIR_SCAN = 500;

/** A rate limit: at most `limit` starts in any window of `periodMs`. */
export interface RateLimit {
  /** Starts allowed per window: a whole number ≥ 1. */
  readonly limit: number;
  /** The window (ms): a whole number ≥ 1. */
  readonly periodMs: number;
}

/** The limits of one queue, stored in the store and enforced by it for every worker. */
export interface QueueLimits {
  /** At most this many flows of the queue running at once (a whole number ≥ 1). */
  readonly concurrency?: number | undefined;
  /** At most this many starts (claims) in any window of the period. */
  readonly rate?: RateLimit | undefined;
  /**
   * At most this many running flows per concurrency key (a whole number ≥ 1), for flows
   * whose own `concurrencyLimit` is not set.
   */
  readonly keyConcurrency?: number | undefined;
  /**
   * Fair-share weights of keys (a positive number ≤ {@link MAX_KEY_WEIGHT}; default 1): a key
   * of weight 3 gets three starts for one of a key of weight 1 while both have flows ready.
   */
  readonly keyWeights?: Readonly<Record<string, number>> | undefined;
}

/** Input of {@link FlowControlStore.configureQueue}. */
export interface ConfigureQueueRequest extends StoreCallOptions {
  /** The queue. */
  readonly queue: string;
  /** Its new limits, replacing the old ones; undefined removes them. */
  readonly limits: QueueLimits | undefined;
  /** The caller's current time (ms). */
  readonly now: number;
}

/** Input of {@link FlowControlStore.getQueueState}. */
export interface QueueStateRequest extends StoreCallOptions {
  /** The queue. */
  readonly queue: string;
  /** Also count the running flows of this concurrency key. */
  readonly key?: string | undefined;
  /** The caller's current time (ms): leases expired by then do not count, nor starts before the window. */
  readonly now: number;
}

/** What {@link FlowControlStore.getQueueState} reports. */
export interface QueueState {
  /** The queue's limits, if it has any. */
  readonly limits?: QueueLimits | undefined;
  /** Flows of the queue running now (unexpired lease). */
  readonly running: number;
  /** Flows of the queue and the requested key running now (0 without a key). */
  readonly keyRunning: number;
  /** Starts in the rate window ending now (0 without a rate). */
  readonly recentStarts: number;
}

/** De-duplication of a new flow by key. */
export interface DedupOption {
  /** The key (store-wide: prefix it with what scopes it, as the executor prefixes the flow type). */
  readonly key: string;
  /**
   * While this long (ms, ≥ 1) after the flow with that key was created, creating another
   * returns that flow. Without it: while that flow is not finished (a singleton that skips).
   */
  readonly forMs?: number | undefined;
}

/** Debounce of a new flow by key. */
export interface DebounceOption {
  /** The key (store-wide, as {@link DedupOption.key}). */
  readonly key: string;
  /** The quiet period (ms, ≥ 1): the flow runs this long after the last call of the burst. */
  readonly delayMs: number;
  /** The longest a burst delays the run (ms, ≥ `delayMs`), counted from its first call. */
  readonly maxWaitMs?: number | undefined;
}

/** Why a flow that could run by time is not running yet (computed by the client from the store). */
export type WaitingFor = 'queue-concurrency' | 'key-concurrency' | 'rate-limit' | 'debounce';

/** The optional flow-control primitives a store with `capabilities.flowControl` has. */
export interface FlowControlStore {
  /** Sets or removes a queue's limits; they apply to the next claim of every worker. */
  configureQueue(request: ConfigureQueueRequest): Promise<void>;
  /** The queue's limits and what counts against them now. */
  getQueueState(request: QueueStateRequest): Promise<QueueState>;
}

/** A key's fair-queueing step for its weight. */
export function fairStep(weight: number | undefined): number {
  return Math.max(1, Math.round(FAIR_STEP / (weight ?? 1)));
}

/** True when a configuration has anything to enforce. */
export function hasLimits(limits: QueueLimits | undefined): limits is QueueLimits {
  return (
    limits !== undefined &&
    (limits.concurrency !== undefined ||
      limits.rate !== undefined ||
      limits.keyConcurrency !== undefined ||
      (limits.keyWeights !== undefined && Object.keys(limits.keyWeights).length > 0))
  );
}

/**
 * The per-key concurrency rule of a claim, one candidate at a time: takes a slot of `key` in
 * `running` (the key's runs so far, this claim's included) unless the flow's own limit, else the
 * queue's `keyConcurrency`, is reached. A flow without a key always passes. True when it may start.
 */
export function takeKeySlot(
  running: Map<string, number>,
  key: string | null | undefined,
  flowLimit: number | null | undefined,
  keyConcurrency: number | undefined,
): boolean {
  if (key === null || key === undefined) return true;
  const max = flowLimit ?? keyConcurrency;
  const count = running.get(key) ?? 0;
  if (max !== undefined && count >= max) return false;
  running.set(key, count + 1);
  return true;
}
