/**
 * Retrying a failed or cancelled flow: a new flow with the same type, queue,
 * priority, trace and (encoded) input, under the first free id
 * `<id>.retry-<n>` (retries of a retry continue the numbering: `x.retry-1` →
 * `x.retry-2`). The store's idempotent create makes the choice of `n` safe
 * against two retries at once.
 *
 * @module
 */
import {
  ErgonError,
  ErrorCode,
  FlowNotFoundError,
  type FlowStatus,
  MAX_ID_LENGTH,
  markErrorClass,
  registerErrorClass,
  type RuntimeExecutionLog,
  validateId,
} from '@ergon/core';

/** What `client.retry` did. */
export interface RetriedFlow {
  /** The new flow's id. */
  readonly id: string;
  /** The flow retried. */
  readonly retryOf: string;
  /** The status of the flow retried. */
  readonly previousStatus: 'failed' | 'cancelled';
  /** The flow type of both. */
  readonly type: string;
  /** The queue of both. */
  readonly queue: string;
}

/** Only a failed or cancelled flow can be retried (`FLOW_NOT_RETRYABLE`). */
export class FlowNotRetryableError extends ErgonError {
  /** The flow that was asked to be retried. */
  readonly flowId: string;
  /** Its status, or `undefined` when its id cannot be extended. */
  readonly status: FlowStatus | undefined;
  constructor(flowId: string, status: FlowStatus | undefined, why: string) {
    super(ErrorCode.FLOW_NOT_RETRYABLE, `cannot retry flow ${flowId}: ${why}`, {
      details: { flowId, status },
    });
    this.flowId = flowId;
    this.status = status;
  }
}
markErrorClass(FlowNotRetryableError, '@ergon/executor/FlowNotRetryableError');
registerErrorClass(FlowNotRetryableError);

const RETRY_SUFFIX = /\.retry-(\d+)$/;
const MAX_TRIES = 10_000;

/**
 * Schedules flow `id` again as a new flow.
 * @throws FlowNotFoundError; FlowNotRetryableError when it is not failed or cancelled.
 */
export async function retryFlow(
  store: RuntimeExecutionLog,
  id: string,
  now: () => number,
): Promise<RetriedFlow> {
  const flow = await store.getFlow(validateId(id, 'flow id'));
  if (!flow) throw new FlowNotFoundError(id);
  if (flow.status !== 'failed' && flow.status !== 'cancelled') {
    throw new FlowNotRetryableError(
      id,
      flow.status,
      `it is ${flow.status}; only failed or cancelled flows can be retried`,
    );
  }
  const match = RETRY_SUFFIX.exec(id);
  const base = match ? id.slice(0, match.index) : id;
  const start = match ? Number(match[1]) + 1 : 1;
  for (let n = start; n < start + MAX_TRIES; n++) {
    const candidate = `${base}.retry-${n}`;
    if (candidate.length > MAX_ID_LENGTH)
      throw new FlowNotRetryableError(id, flow.status, 'its id is too long to extend');
    const at = now();
    const { created } = await store.createFlow({
      id: candidate,
      type: flow.type,
      queue: flow.queue,
      input: flow.input,
      priority: flow.priority,
      runAt: at,
      traceContext: flow.traceContext,
      now: at,
    });
    if (created)
      return { id: candidate, retryOf: id, previousStatus: flow.status, type: flow.type, queue: flow.queue };
  }
  throw new FlowNotRetryableError(id, flow.status, `${MAX_TRIES} retry ids are taken`);
}
