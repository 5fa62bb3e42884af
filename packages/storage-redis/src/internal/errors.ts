/**
 * The one place where Redis and ioredis failures become core errors.
 *
 * Scripts fail with replies that start `ERGON_<CODE>`; connection trouble
 * (closed socket, retries exhausted, command timeout, LOADING, OOM, ...)
 * becomes `STORE_UNAVAILABLE`; data of the wrong shape (a key of the wrong
 * type, JSON a script or the decoder cannot parse) becomes `STORE_CORRUPT`,
 * never `STORE_UNAVAILABLE`: no retry would fix it.
 *
 * @module
 */
import {
  ErgonError,
  ErrorCode,
  FlowFinishedError,
  FlowNotFoundError,
  type FlowStatus,
  isErgonError,
  LeaseLostError,
  StoreUnavailableError,
} from '@ergon/core';

/** What the failing call was about, for the error's fields and message. */
export interface ErrorContext {
  /** Verb for messages: `signal 'go'`, `claim`, ... */
  readonly action: string;
  readonly flowId?: string | undefined;
  readonly token?: number | undefined;
}

const STORE = 'redis';
const SCRIPT_ERROR = /\bERGON_([A-Z_]+)(?: (\S+))?/;
const CORRUPT =
  /^(WRONGTYPE|ERR user_script|ERR Error running script)|cjson|attempt to (index|compare|perform)/;
/** Conditions of the server, not of the data, even when a script reports them (Redis 6 wraps them). */
const TRANSIENT = /\b(OOM|LOADING|BUSY|READONLY|MASTERDOWN|NOREPLICAS|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * Data of the wrong shape under a flow's keys (JSON that does not parse, a record that is
 * not one): `STORE_CORRUPT`, which no retry fixes, so the engine fails the flow instead of
 * retrying it forever.
 */
export function corruptData(what: string, flowId: string | undefined, cause?: unknown): ErgonError {
  return new ErgonError(
    ErrorCode.STORE_CORRUPT,
    `redis store: ${what}; check that nothing else writes under this key prefix`,
    { cause, details: { store: STORE, flowId } },
  );
}

/** Maps anything a Redis call threw to an Ergon error. Ergon errors pass through unchanged. */
export function toStoreError(error: unknown, context: ErrorContext): Error {
  if (isErgonError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const script = SCRIPT_ERROR.exec(message);
  if (script) {
    const flowId = context.flowId ?? '';
    switch (script[1]) {
      case 'LEASE_LOST':
        return new LeaseLostError(flowId, context.token ?? 0);
      case 'FLOW_NOT_FOUND':
        return new FlowNotFoundError(flowId);
      case 'FLOW_FINISHED':
        return new FlowFinishedError(flowId, (script[2] ?? 'completed') as FlowStatus, context.action);
    }
  }
  if (
    error instanceof Error &&
    error.name === 'ReplyError' &&
    CORRUPT.test(message) &&
    !TRANSIENT.test(message)
  ) {
    return new ErgonError(
      ErrorCode.STORE_CORRUPT,
      `redis store: ${context.action} failed on data of an unexpected shape (${message}); ` +
        'check that nothing else writes under this key prefix',
      { cause: error, details: { store: STORE, flowId: context.flowId } },
    );
  }
  return new StoreUnavailableError(STORE, `${context.action} failed: ${message}`, error);
}
