/**
 * A running flow's progress: the latest value on its row, fenced in the one
 * `UPDATE` that writes it, and its event after the commit.
 *
 * @module
 */
import type { ProgressRequest, ProgressResult } from '@ergon/core';
import type { Context } from './context.js';
import { rows } from './db.js';
import { leaseError } from './leases.js';

/** Stores the flow's latest progress. @throws FlowNotFoundError, LeaseLostError. */
export async function setProgress(ctx: Context, request: ProgressRequest): Promise<ProgressResult> {
  const [row] = await rows(ctx.db.pool, ctx.q.setProgress, {
    id: request.flowId,
    token: request.token,
    progress: request.progress,
    now: request.now,
  });
  if (!row) throw await leaseError(ctx, request);
  ctx.notifier.send([{ type: 'progress', flowId: request.flowId }]);
  return { cancelRequested: row.cancel_requested };
}
