/**
 * Errors a store raises for conditions the engine or a caller handles.
 *
 * @module
 */
import { ErgonError, ErrorCode } from '../errors.js';
import { registerErrorClass } from '../codec.js';

/** No flow with this id exists. */
export class FlowNotFoundError extends ErgonError {
  readonly flowId: string;
  constructor(flowId: string) {
    super(ErrorCode.FLOW_NOT_FOUND, `flow ${JSON.stringify(flowId)} not found: check the id, or whether it was purged`, {
      details: { flowId },
    });
    this.flowId = flowId;
  }
  override isRetryable(): boolean {
    return false;
  }
}

/** The flow is already in a terminal state. */
export class FlowFinishedError extends ErgonError {
  readonly flowId: string;
  readonly status: string;
  constructor(flowId: string, status: string, action: string) {
    super(ErrorCode.FLOW_FINISHED, `cannot ${action}: flow ${JSON.stringify(flowId)} is already ${status}`, {
      details: { flowId, status, action },
    });
    this.flowId = flowId;
    this.status = status;
  }
  override isRetryable(): boolean {
    return false;
  }
}

/**
 * A write carried a fencing token older than the flow's current one: another
 * worker took the flow over. The writer must abandon the run.
 */
export class LeaseLostError extends ErgonError {
  readonly flowId: string;
  readonly token: number;
  constructor(flowId: string, token: number, detail = 'another worker holds a newer lease') {
    super(ErrorCode.LEASE_LOST, `lease lost on flow ${JSON.stringify(flowId)} (token ${token}): ${detail}`, {
      details: { flowId, token },
    });
    this.flowId = flowId;
    this.token = token;
  }
  override isRetryable(): boolean {
    return false;
  }
}

/** The store cannot be reached or refused the operation; usually transient. */
export class StoreUnavailableError extends ErgonError {
  constructor(store: string, message: string, cause?: unknown) {
    super(ErrorCode.STORE_UNAVAILABLE, `${store} store unavailable: ${message}`, { cause, details: { store } });
  }
}

registerErrorClass(FlowNotFoundError, FlowFinishedError, LeaseLostError, StoreUnavailableError);
