/**
 * Getting the runtime wrapper of a store: one per store, so closing it through
 * any engine component closes the store once for all; and the capabilities the
 * wrapper grants it.
 *
 * @module
 */
import { ErgonError, ErrorCode } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { ExecutionLog, StoreCapabilities } from '../execution-log.js';
import { RuntimeExecutionLog } from './runtime-execution-log.js';

/** A store as the engine takes it: raw, or already wrapped. */
export type StoreInput = ExecutionLog | RuntimeExecutionLog;

/** Options of {@link runtimeStore}. */
export interface RuntimeOptions {
  /** Where a throwing event listener is reported. Default: nowhere. */
  readonly logger?: Logger;
  /**
   * Coalesce writes into `applyWrites` batches and creates into `createFlows` batches when the
   * store has them (default true).
   * Only the first wrapper of a store is built with options.
   */
  readonly coalesce?: boolean;
}

const wrappers = new WeakMap<ExecutionLog, RuntimeExecutionLog>();
/** Marks a wrapper, even one from another copy of this package. */
export const RUNTIME_MARK = Symbol.for('@ergon/core/RuntimeExecutionLog');

/**
 * The runtime wrapper of `store`: the same one for the same store, so closing
 * it through any engine component closes it once for all. A wrapper passed in
 * is returned as it is.
 */
export function runtimeStore(store: StoreInput, options: RuntimeOptions = {}): RuntimeExecutionLog {
  if (isRuntimeStore(store)) return store;
  if (typeof store !== 'object' || store === null || typeof store.claim !== 'function') {
    throw new ErgonError(
      ErrorCode.INVALID_ARGUMENT,
      'a store (an ExecutionLog such as SqliteExecutionLog) is required',
    );
  }
  let wrapper = wrappers.get(store);
  if (!wrapper) {
    wrapper = new RuntimeExecutionLog(store, options);
    wrappers.set(store, wrapper);
  }
  return wrapper;
}

/** True for a {@link RuntimeExecutionLog}, even from another copy of this package. */
export function isRuntimeStore(value: unknown): value is RuntimeExecutionLog {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[RUNTIME_MARK] === true
  );
}

/**
 * What the wrapper says `inner` can do: a capability it declares counts only when it has the
 * methods the capability needs.
 */
export function capabilitiesOf(inner: ExecutionLog): StoreCapabilities {
  return Object.freeze({
    events: inner.capabilities?.events === true && !!inner.subscribe,
    flowControl:
      inner.capabilities?.flowControl === true &&
      typeof inner.configureQueue === 'function' &&
      typeof inner.getQueueState === 'function',
    claimOnCreate: inner.capabilities?.claimOnCreate === true,
    finishClaims: inner.capabilities?.finishClaims === true,
    handOff: inner.capabilities?.handOff === true && inner.capabilities?.events === true && !!inner.subscribe,
  });
}
