/**
 * Errors of the durable engine, one class per condition a caller handles.
 *
 * @module
 */
import { ErgonError, ErrorCode, registerErrorClass } from '@ergon/core';

/** The flow called a different operation than its history recorded at a position. */
export class NonDeterminismError extends ErgonError {
  readonly flowId: string;
  readonly position: number;
  readonly recordedKey: string;
  readonly calledKey: string;
  constructor(options: { flowId: string; position: number; recordedKey: string; calledKey: string }) {
    super(
      ErrorCode.NON_DETERMINISM,
      `non-deterministic flow ${JSON.stringify(options.flowId)}: at position ${options.position} history recorded ` +
        `'${options.recordedKey}' but the code called '${options.calledKey}'. Flow code must call the same durable ` +
        'operations in the same order on every run; version the flow type instead of editing a running one',
      { details: options },
    );
    this.flowId = options.flowId;
    this.position = options.position;
    this.recordedKey = options.recordedKey;
    this.calledKey = options.calledKey;
  }
  override isRetryable(): boolean {
    return false;
  }
}

/** A step attempt ran past its timeout. Retryable by default. */
export class StepTimeoutError extends ErgonError {
  constructor(key: string, timeoutMs: number) {
    super(ErrorCode.STEP_TIMEOUT, `step '${key}' attempt timed out after ${timeoutMs} ms`, {
      details: { key, timeoutMs },
    });
  }
}

/** `waitForSignal` reached its timeout. */
export class SignalTimeoutError extends ErgonError {
  constructor(name: string, timeoutMs: number) {
    super(ErrorCode.SIGNAL_TIMEOUT, `no signal '${name}' arrived within ${timeoutMs} ms`, {
      details: { name, timeoutMs },
    });
  }
  override isRetryable(): boolean {
    return false;
  }
}

/** A child flow failed or was cancelled; `cause` is the child's error. */
export class ChildFlowFailedError extends ErgonError {
  constructor(childId: string, status: string, cause: unknown) {
    super(
      ErrorCode.CHILD_FLOW_FAILED,
      `child flow ${JSON.stringify(childId)} ${status}: ${describe(cause)}`,
      {
        cause,
        details: { childId, status },
      },
    );
  }
  override isRetryable(): boolean {
    return false;
  }
}

/** `result()` of a failed flow; `cause` is the flow's error. */
export class FlowFailedError extends ErgonError {
  constructor(flowId: string, cause: unknown) {
    super(ErrorCode.FLOW_FAILED, `flow ${JSON.stringify(flowId)} failed: ${describe(cause)}`, {
      cause,
      details: { flowId },
    });
  }
  override isRetryable(): boolean {
    return false;
  }
}

/** `result()` of a cancelled flow, and the reason given to aborted attempts. */
export class FlowCancelledError extends ErgonError {
  constructor(flowId: string, reason?: string) {
    super(
      ErrorCode.FLOW_CANCELLED,
      `flow ${JSON.stringify(flowId)} was cancelled${reason ? `: ${reason}` : ''}`,
      {
        details: { flowId },
      },
    );
  }
  override isRetryable(): boolean {
    return false;
  }
}

/** No worker in this process knows the flow's type. */
export class UnknownFlowTypeError extends ErgonError {
  constructor(type: string, known: readonly string[]) {
    super(
      ErrorCode.UNKNOWN_FLOW_TYPE,
      `unknown flow type '${type}': register it with the worker (known: ${known.join(', ') || 'none'})`,
      { details: { type, known: [...known] } },
    );
  }
  override isRetryable(): boolean {
    return false;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

registerErrorClass(
  NonDeterminismError,
  StepTimeoutError,
  SignalTimeoutError,
  ChildFlowFailedError,
  FlowFailedError,
  FlowCancelledError,
  UnknownFlowTypeError,
);
