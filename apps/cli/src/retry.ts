/**
 * Retrying a failed or cancelled flow: a new flow with the same type,
 * queue, priority and (encoded) input, under the first free id
 * `<id>.retry-<n>`. The store's idempotent create makes the choice of `n`
 * safe against two retries at once.
 *
 * @module
 */
import { FlowNotFoundError, MAX_ID_LENGTH, type RuntimeExecutionLog, validateId } from '@ergon/core';
import { CliError } from './errors.js';

/** What {@link retryFlow} did. */
export interface RetryResult {
  /** The new flow's id. */
  readonly id: string;
  /** The flow retried. */
  readonly retryOf: string;
  readonly previousStatus: 'failed' | 'cancelled';
  readonly type: string;
  readonly queue: string;
}

const RETRY_SUFFIX = /\.retry-(\d+)$/;
const MAX_TRIES = 10_000;

/**
 * Schedules flow `id` again as a new flow.
 *
 * @throws FlowNotFoundError; CliError when the flow is not failed or cancelled.
 */
export async function retryFlow(store: RuntimeExecutionLog, id: string): Promise<RetryResult> {
  const flow = await store.getFlow(validateId(id, 'flow id'));
  if (!flow) throw new FlowNotFoundError(id);
  if (flow.status !== 'failed' && flow.status !== 'cancelled') {
    throw new CliError(
      `cannot retry flow ${id}: it is ${flow.status}; only failed or cancelled flows can be retried`,
    );
  }
  // Retries of a retry share the original's numbering: x.retry-1 → x.retry-2.
  const match = RETRY_SUFFIX.exec(id);
  const base = match ? id.slice(0, match.index) : id;
  const start = match ? Number(match[1]) + 1 : 1;
  for (let n = start; n < start + MAX_TRIES; n++) {
    const candidate = `${base}.retry-${n}`;
    if (candidate.length > MAX_ID_LENGTH)
      throw new CliError(`cannot retry flow ${id}: its id is too long to extend`);
    const now = Date.now();
    const { created } = await store.createFlow({
      id: candidate,
      type: flow.type,
      queue: flow.queue,
      input: flow.input,
      priority: flow.priority,
      runAt: now,
      now,
    });
    if (created) {
      return { id: candidate, retryOf: id, previousStatus: flow.status, type: flow.type, queue: flow.queue };
    }
  }
  throw new CliError(`cannot retry flow ${id}: ${MAX_TRIES} retry ids are taken`);
}
