/**
 * Checks of the flow-control arguments (`queues.ts`), once, in the runtime
 * wrapper: queue limits and a new flow's concurrency key, de-duplication and
 * debounce. A bad setting is refused with `INVALID_FLOW_CONTROL` naming it; a
 * store without `capabilities.flowControl` refuses them all, so no limit is
 * silently ignored. Reading a queue's state works on every store (no limits
 * and zeros on one without flow control).
 *
 * @module
 */
import { ErgonError, ErrorCode, InvalidArgumentError } from '../../errors.js';
import type { ExecutionLog, NewFlow } from '../execution-log.js';
import {
  type ConfigureQueueRequest,
  type FlowControlStore,
  MAX_KEY_WEIGHT,
  type QueueLimits,
  type QueueState,
  type QueueStateRequest,
} from '../queues.js';
import type { RuntimeExecutionLog } from './runtime-execution-log.js';
import { checkName, checkTime, show } from './validate.js';

/** What the flow-control calls read of the runtime wrapper: its store and what that store can do. */
type Wrapped = Pick<RuntimeExecutionLog, 'inner' | 'name' | 'capabilities'>;

function refuse(message: string): never {
  throw new InvalidArgumentError(message, { code: ErrorCode.INVALID_FLOW_CONTROL });
}

function whole(value: unknown, what: string, min = 1): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    refuse(`${what} must be a whole number ≥ ${min} (got ${show(value)})`);
  }
}

/** Refuses flow control on a store that cannot enforce it. */
export function requireFlowControl(storeName: string, supported: boolean, what: string): void {
  if (!supported) {
    throw new ErgonError(
      ErrorCode.INVALID_ARGUMENT,
      `${what} needs a store with flow control; the ${storeName} store has none: use the memory, SQLite, Redis or PostgreSQL store`,
    );
  }
}

/** A queue's limits: whole numbers ≥ 1, a rate of at least 1 start in at least 1 ms, positive weights. */
export function checkQueueLimits(limits: QueueLimits | undefined, queue: string): void {
  if (limits === undefined) return;
  if (typeof limits !== 'object' || limits === null) refuse(`limits of queue '${queue}' must be an object`);
  const known = new Set(['concurrency', 'rate', 'keyConcurrency', 'keyWeights']);
  for (const name of Object.keys(limits)) {
    if (!known.has(name))
      refuse(`unknown limit '${name}' for queue '${queue}': use ${[...known].join(', ')}`);
  }
  if (limits.concurrency !== undefined) whole(limits.concurrency, `concurrency of queue '${queue}'`);
  if (limits.keyConcurrency !== undefined) whole(limits.keyConcurrency, `keyConcurrency of queue '${queue}'`);
  if (limits.rate !== undefined) {
    if (typeof limits.rate !== 'object' || limits.rate === null) {
      refuse(`rate of queue '${queue}' must be { limit, periodMs }`);
    }
    whole(limits.rate.limit, `rate.limit of queue '${queue}' (starts per period)`);
    whole(limits.rate.periodMs, `rate.periodMs of queue '${queue}'`);
  }
  if (limits.keyWeights !== undefined) {
    if (typeof limits.keyWeights !== 'object' || limits.keyWeights === null) {
      refuse(`keyWeights of queue '${queue}' must be an object of key → weight`);
    }
    for (const [key, weight] of Object.entries(limits.keyWeights)) {
      checkName(key, 'a weighted key');
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0 || weight > MAX_KEY_WEIGHT) {
        refuse(
          `weight of key '${key}' in queue '${queue}' must be a number in (0, ${MAX_KEY_WEIGHT}] (got ${show(weight)})`,
        );
      }
    }
  }
}

/** Input of `configureQueue`. */
export function checkConfigureQueue(request: ConfigureQueueRequest): void {
  if (typeof request !== 'object' || request === null) refuse('configureQueue needs { queue, limits, now }');
  checkName(request.queue, 'queue');
  checkTime(request.now, 'now');
  checkQueueLimits(request.limits, request.queue);
}

/** True when a new flow asks for flow control. */
export function usesFlowControl(flow: NewFlow): boolean {
  return (
    flow.concurrencyKey !== undefined ||
    flow.concurrencyLimit !== undefined ||
    flow.dedup !== undefined ||
    flow.debounce !== undefined
  );
}

/** A new flow's concurrency key and limit, de-duplication and debounce. */
export function checkFlowOptions(flow: NewFlow): void {
  if (flow.concurrencyKey !== undefined) checkName(flow.concurrencyKey, 'concurrencyKey');
  if (flow.concurrencyLimit !== undefined) {
    if (flow.concurrencyKey === undefined) refuse('concurrencyLimit needs a concurrencyKey to count by');
    whole(flow.concurrencyLimit, 'concurrencyLimit');
  }
  if (flow.dedup !== undefined) {
    if (typeof flow.dedup !== 'object' || flow.dedup === null) refuse('dedup must be { key, forMs? }');
    checkName(flow.dedup.key, 'dedup key');
    if (flow.dedup.forMs !== undefined) whole(flow.dedup.forMs, 'dedup forMs');
  }
  if (flow.debounce !== undefined) {
    const d = flow.debounce;
    if (typeof d !== 'object' || d === null) refuse('debounce must be { key, delayMs, maxWaitMs? }');
    checkName(d.key, 'debounce key');
    whole(d.delayMs, 'debounce delayMs');
    if (d.maxWaitMs !== undefined) {
      whole(d.maxWaitMs, 'debounce maxWaitMs');
      if (d.maxWaitMs < d.delayMs)
        refuse(`debounce maxWaitMs (${d.maxWaitMs}) must be ≥ delayMs (${d.delayMs})`);
    }
    if (flow.dedup !== undefined) refuse('a flow takes dedup or debounce, not both');
    if (flow.parentId !== undefined) refuse('a child flow cannot be debounced: its id is its parent’s');
  }
}

/** Checks a queue's limits and passes them on. @throws on a store without flow control. */
export function configureQueueChecked(store: Wrapped, request: ConfigureQueueRequest): Promise<void> {
  checkConfigureQueue(request);
  requireFlowControl(store.name, store.capabilities.flowControl === true, 'configureQueue');
  return (store.inner as ExecutionLog & FlowControlStore).configureQueue(request);
}

/** Checks a queue-state read and passes it on; no limits and zeros on a store without flow control. */
export function queueStateChecked(store: Wrapped, request: QueueStateRequest): Promise<QueueState> {
  checkName(request?.queue, 'queue');
  checkTime(request.now, 'now');
  if (request.key !== undefined) checkName(request.key, 'concurrency key');
  if (store.capabilities.flowControl !== true) {
    return Promise.resolve({ running: 0, keyRunning: 0, recentStarts: 0 });
  }
  return (store.inner as ExecutionLog & FlowControlStore).getQueueState(request);
}
