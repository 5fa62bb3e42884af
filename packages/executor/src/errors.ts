/**
 * Errors of the durable engine, one class per condition a caller handles,
 * each with the typed fields a caller acts on. Retryability follows the code
 * (core's `NON_RETRYABLE_CODES`); `instanceof` holds across package copies
 * through a `Symbol.for` brand per class.
 *
 * @module
 */
import {
  ErgonError,
  ErrorCode,
  type FlowStatus,
  markErrorClass,
  type OperationKind,
  registerErrorClass,
} from '@ergon/core';

/** What {@link NonDeterminismError} reports about one side of the mismatch. */
export interface NonDeterminismDetails {
  /** The flow whose code no longer matches its history. */
  readonly flowId: string;
  /** The history position where they part. */
  readonly position: number;
  /** The history key recorded at the position (`charge#0`), in the format of history entries. */
  readonly recordedKey: string;
  /** The kind of the recorded operation. */
  readonly recordedKind: OperationKind;
  /** The key the code called at that position (`refund#0`). */
  readonly calledKey: string;
  /** The kind of the called operation. */
  readonly calledKind: OperationKind;
}

/** The flow called a different operation than its history recorded at a position. */
export class NonDeterminismError extends ErgonError {
  /** The flow that failed with it. */
  readonly flowId: string;
  /** The history position where code and history disagree. */
  readonly position: number;
  /** The key recorded at that position (`charge#0`). */
  readonly recordedKey: string;
  /** The kind recorded at that position. */
  readonly recordedKind: OperationKind;
  /** The key the code called at that position (`refund#0`). */
  readonly calledKey: string;
  /** The kind the code called. */
  readonly calledKind: OperationKind;
  constructor(options: NonDeterminismDetails) {
    super(
      ErrorCode.NON_DETERMINISM,
      `non-deterministic flow ${JSON.stringify(options.flowId)}: at position ${options.position} history recorded ` +
        `${options.recordedKind} '${options.recordedKey}' but the code called ${options.calledKind} '${options.calledKey}'. ` +
        'Flow code must call the same durable operations in the same order on every run; version the flow type ' +
        'instead of editing a running one',
      { details: { ...options } },
    );
    this.flowId = options.flowId;
    this.position = options.position;
    this.recordedKey = options.recordedKey;
    this.recordedKind = options.recordedKind;
    this.calledKey = options.calledKey;
    this.calledKind = options.calledKind;
  }
}

/** A step attempt ran past its timeout. Retryable. */
export class StepTimeoutError extends ErgonError {
  /** The step's history key. */
  readonly key: string;
  /** The attempt's timeout, in ms. */
  readonly timeoutMs: number;
  constructor(key: string, timeoutMs: number) {
    super(ErrorCode.STEP_TIMEOUT, `step '${key}' attempt timed out after ${timeoutMs} ms`, {
      details: { key, timeoutMs },
    });
    this.key = key;
    this.timeoutMs = timeoutMs;
  }
}

/** `waitForSignal` reached its timeout. */
export class SignalTimeoutError extends ErgonError {
  /** The signal name waited for. */
  readonly signalName: string;
  /** The wait's timeout, in ms. */
  readonly timeoutMs: number;
  constructor(name: string, timeoutMs: number) {
    super(ErrorCode.SIGNAL_TIMEOUT, `no signal '${name}' arrived within ${timeoutMs} ms`, {
      details: { name, timeoutMs },
    });
    this.signalName = name;
    this.timeoutMs = timeoutMs;
  }
}

/** A child flow failed or was cancelled; `cause` is the child's error. */
export class ChildFlowFailedError extends ErgonError {
  /** The child flow's id. */
  readonly childId: string;
  /** The child's terminal status (`failed` or `cancelled`). */
  readonly status: FlowStatus;
  constructor(childId: string, status: FlowStatus, cause: unknown) {
    super(
      ErrorCode.CHILD_FLOW_FAILED,
      `child flow ${JSON.stringify(childId)} ${status}: ${describe(cause)}`,
      {
        cause,
        details: { childId, status },
      },
    );
    this.childId = childId;
    this.status = status;
  }
}

/** `result()` of a failed flow; `cause` is the flow's error. */
export class FlowFailedError extends ErgonError {
  /** The flow that failed. */
  readonly flowId: string;
  constructor(flowId: string, cause: unknown) {
    super(ErrorCode.FLOW_FAILED, `flow ${JSON.stringify(flowId)} failed: ${describe(cause)}`, {
      cause,
      details: { flowId },
    });
    this.flowId = flowId;
  }
}

/** `result()` of a cancelled flow, and the reason given to aborted attempts. */
export class FlowCancelledError extends ErgonError {
  /** The flow that was cancelled. */
  readonly flowId: string;
  /** The reason given to `client.cancel`, when one was. */
  readonly reason: string | undefined;
  constructor(flowId: string, reason?: string) {
    super(
      ErrorCode.FLOW_CANCELLED,
      `flow ${JSON.stringify(flowId)} was cancelled${reason ? `: ${reason}` : ''}`,
      {
        details: reason === undefined ? { flowId } : { flowId, reason },
      },
    );
    this.flowId = flowId;
    this.reason = reason;
  }
}

/** No worker in this process knows the flow's type. */
export class UnknownFlowTypeError extends ErgonError {
  /** The unknown type. */
  readonly type: string;
  /** The types this worker or executor knows. */
  readonly known: readonly string[];
  constructor(type: string, known: readonly string[]) {
    super(
      ErrorCode.UNKNOWN_FLOW_TYPE,
      `unknown flow type '${type}': register it with the worker (known: ${known.join(', ') || 'none'})`,
      { details: { type, known: [...known] } },
    );
    this.type = type;
    this.known = Object.freeze([...known]);
  }
}

/**
 * A worker claimed a flow recorded under a version of its type that it does not serve (see the
 * worker's `versions`). The flow is released, not failed: its `lastError` says this until a
 * worker that serves the version runs it.
 */
export class VersionNotServedError extends ErgonError {
  /** The flow. */
  readonly flowId: string;
  /** Its type. */
  readonly type: string;
  /** The version its history was recorded under. */
  readonly recorded: string;
  /** The versions of the type the worker serves. */
  readonly served: readonly string[];
  /** Live workers that report serving the recorded version (empty: none does). */
  readonly liveServers: readonly string[];
  constructor(options: {
    flowId: string;
    type: string;
    recorded: string;
    served: readonly string[];
    workerId: string;
    liveServers?: readonly string[];
  }) {
    const live = options.liveServers ?? [];
    super(
      ErrorCode.VERSION_NOT_SERVED,
      `flow ${JSON.stringify(options.flowId)} was recorded under version '${options.recorded}' of '${options.type}', ` +
        `which worker ${options.workerId} does not serve (it serves ${options.served.map((v) => `'${v}'`).join(', ') || 'none'}); ` +
        (live.length > 0
          ? `live workers that serve it: ${live.join(', ')}`
          : `no live worker serves it: run a worker whose \`versions\` include '${options.recorded}' (code that replays it, with ctx.patched where it changed)`),
      { details: { ...options, served: [...options.served], liveServers: [...live] } },
    );
    this.liveServers = Object.freeze([...live]);
    this.flowId = options.flowId;
    this.type = options.type;
    this.recorded = options.recorded;
    this.served = Object.freeze([...options.served]);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

markErrorClass(NonDeterminismError, '@ergon/executor/NonDeterminismError');
markErrorClass(StepTimeoutError, '@ergon/executor/StepTimeoutError');
markErrorClass(SignalTimeoutError, '@ergon/executor/SignalTimeoutError');
markErrorClass(ChildFlowFailedError, '@ergon/executor/ChildFlowFailedError');
markErrorClass(FlowFailedError, '@ergon/executor/FlowFailedError');
markErrorClass(FlowCancelledError, '@ergon/executor/FlowCancelledError');
markErrorClass(UnknownFlowTypeError, '@ergon/executor/UnknownFlowTypeError');
registerErrorClass(
  NonDeterminismError,
  StepTimeoutError,
  SignalTimeoutError,
  ChildFlowFailedError,
  FlowFailedError,
  FlowCancelledError,
  UnknownFlowTypeError,
);
