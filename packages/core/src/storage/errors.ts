/**
 * Errors a store raises for conditions the engine or a caller handles. Each
 * carries the typed fields a caller acts on; retryability follows the code.
 *
 * @module
 */
import { registerErrorClass } from '../codec.js';
import { ErgonError, ErrorCode, markErrorClass } from '../errors.js';
import type { FlowStatus } from './records.js';

/** No flow with this id exists. */
export class FlowNotFoundError extends ErgonError {
  /** The id that was looked for. */
  readonly flowId: string;
  constructor(flowId: string) {
    super(
      ErrorCode.FLOW_NOT_FOUND,
      `flow ${JSON.stringify(flowId)} not found: check the id, or whether it was purged`,
      {
        details: { flowId },
      },
    );
    this.flowId = flowId;
  }
}

/** The flow is already in a terminal state; `action` needs a live flow. */
export class FlowFinishedError extends ErgonError {
  /** The finished flow. */
  readonly flowId: string;
  /** Its terminal status. */
  readonly status: FlowStatus;
  /** What was refused (`signal 'approval'`, `cancel`). */
  readonly action: string;
  constructor(flowId: string, status: FlowStatus, action: string) {
    super(ErrorCode.FLOW_FINISHED, `cannot ${action}: flow ${JSON.stringify(flowId)} is already ${status}`, {
      details: { flowId, status, action },
    });
    this.flowId = flowId;
    this.status = status;
    this.action = action;
  }
}

/**
 * A write carried a fencing token older than the flow's current one: another
 * worker took the flow over. The writer must abandon the run.
 */
export class LeaseLostError extends ErgonError {
  /** The flow whose lease was lost. */
  readonly flowId: string;
  /** The stale token the write carried. */
  readonly token: number;
  constructor(flowId: string, token: number, detail = 'another worker holds a newer lease') {
    super(ErrorCode.LEASE_LOST, `lease lost on flow ${JSON.stringify(flowId)} (token ${token}): ${detail}`, {
      details: { flowId, token },
    });
    this.flowId = flowId;
    this.token = token;
  }
}

/**
 * A flow's progress value, encoded, is over the size limit. Progress is read
 * often (every list, every live page), so it is meant to be small: a fraction,
 * counts, a phase name.
 */
export class ProgressTooLargeError extends ErgonError {
  /** The flow that reported it. */
  readonly flowId: string;
  /** Its encoded size in bytes (UTF-8). */
  readonly bytes: number;
  /** The limit it is over. */
  readonly maxBytes: number;
  constructor(flowId: string, bytes: number, maxBytes: number) {
    super(
      ErrorCode.PROGRESS_TOO_LARGE,
      `progress of flow ${JSON.stringify(flowId)} is ${bytes} bytes encoded, over the limit of ${maxBytes}: ` +
        'report a small value (a fraction, { current, total }, a phase name) and keep large data in step results',
      { details: { flowId, bytes, maxBytes } },
    );
    this.flowId = flowId;
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}

/** The store cannot be reached or refused the operation; usually transient. */
export class StoreUnavailableError extends ErgonError {
  /** The store's name (`sqlite`, `redis`, ...). */
  readonly store: string;
  constructor(store: string, message: string, cause?: unknown) {
    super(ErrorCode.STORE_UNAVAILABLE, `${store} store unavailable: ${message}`, {
      cause,
      details: { store },
    });
    this.store = store;
  }
}

markErrorClass(FlowNotFoundError, '@ergon/core/FlowNotFoundError');
markErrorClass(FlowFinishedError, '@ergon/core/FlowFinishedError');
markErrorClass(LeaseLostError, '@ergon/core/LeaseLostError');
markErrorClass(StoreUnavailableError, '@ergon/core/StoreUnavailableError');
markErrorClass(ProgressTooLargeError, '@ergon/core/ProgressTooLargeError');
registerErrorClass(
  FlowNotFoundError,
  FlowFinishedError,
  LeaseLostError,
  StoreUnavailableError,
  ProgressTooLargeError,
);
