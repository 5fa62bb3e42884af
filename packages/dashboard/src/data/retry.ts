/**
 * The default retry of a failed or cancelled flow, as `ergon retry` does it: a
 * new flow with the same type, queue, priority and (encoded) input under the
 * first free id `<id>.retry-<n>`. The store's idempotent create makes the
 * choice of `n` safe against two retries at once.
 *
 * @module
 */
import { ErgonError, ErrorCode, FlowNotFoundError, MAX_ID_LENGTH, validateId } from '@ergon/core';
import type { Client } from '@ergon/executor';
import type { RetriedFlow } from '../options.js';

const RETRY_SUFFIX = /\.retry-(\d+)$/;
const MAX_TRIES = 1000;

/**
 * Schedules flow `id` again as a new flow.
 * @throws FlowNotFoundError; ErgonError `INVALID_ARGUMENT` when the flow is not failed or cancelled.
 */
export async function retryAsNewFlow(client: Client, id: string): Promise<RetriedFlow> {
  const store = client.store;
  const flow = await store.getFlow(validateId(id, 'flow id'));
  if (!flow) throw new FlowNotFoundError(id);
  if (flow.status !== 'failed' && flow.status !== 'cancelled') {
    throw new ErgonError(
      ErrorCode.INVALID_ARGUMENT,
      `cannot retry flow ${id}: it is ${flow.status}; only failed or cancelled flows can be retried`,
    );
  }
  const match = RETRY_SUFFIX.exec(id);
  const base = match ? id.slice(0, match.index) : id;
  const start = match ? Number(match[1]) + 1 : 1;
  for (let n = start; n < start + MAX_TRIES; n++) {
    const candidate = `${base}.retry-${n}`;
    if (candidate.length > MAX_ID_LENGTH)
      throw new ErgonError(
        ErrorCode.INVALID_ARGUMENT,
        `cannot retry flow ${id}: its id is too long to extend`,
      );
    const now = Date.now();
    const { created } = await store.createFlow({
      id: candidate,
      type: flow.type,
      queue: flow.queue,
      input: flow.input,
      priority: flow.priority,
      runAt: now,
      traceContext: flow.traceContext,
      now,
    });
    if (created) return { id: candidate };
  }
  throw new ErgonError(
    ErrorCode.INVALID_ARGUMENT,
    `cannot retry flow ${id}: ${MAX_TRIES} retry ids are taken`,
  );
}
