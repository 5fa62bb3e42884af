/**
 * A running flow's progress: the latest value on its row, written under the
 * fencing check in one IMMEDIATE transaction, with its event.
 *
 * @module
 */
import type { ProgressRequest, ProgressResult } from '@ergon/core';
import { fenceHolder } from './leases.js';
import type { TxContext } from './queries.js';

/** Stores the flow's latest progress. @throws FlowNotFoundError, LeaseLostError. */
export function setProgress(ctx: TxContext, request: ProgressRequest): ProgressResult {
  const flow = fenceHolder(ctx, request);
  ctx.q.setProgress.run({ id: flow.id, progress: request.progress, now: request.now });
  ctx.emit({ type: 'progress', flowId: flow.id });
  return { cancelRequested: flow.cancel_requested !== 0 };
}
