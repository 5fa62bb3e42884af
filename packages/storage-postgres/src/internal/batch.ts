/**
 * A batch of writes (`applyWrites`) in one transaction: one commit for many
 * flows' records, suspensions and finishes instead of one each. Each write's
 * refusal (a stale token, an unknown flow) is thrown before it writes anything,
 * so it fails alone and the transaction goes on; a database error fails the
 * whole batch (a conflict runs it again from the start, as any transaction).
 *
 * @module
 */
import { type BatchOutcome, type BatchWrite, isErgonError } from '@ergon/core';
import type { Context } from './context.js';
import { recordIn } from './history.js';
import { finishIn, suspendIn } from './lifecycle.js';

/** Applies `writes` in order in one transaction. `repeated`: its connection was lost once. */
export function applyBatch(
  ctx: Context,
  writes: readonly BatchWrite[],
  repeated: boolean,
): Promise<BatchOutcome[]> {
  return ctx.db.transaction(async (tx) => {
    const outcomes: BatchOutcome[] = [];
    for (const write of writes) {
      try {
        if (write.op === 'record') outcomes.push({ ok: true, value: await recordIn(ctx, tx, write.request) });
        else if (write.op === 'suspend')
          outcomes.push({ ok: true, value: await suspendIn(ctx, tx, write.request, repeated) });
        else {
          await finishIn(ctx, tx, write.request, repeated);
          outcomes.push({ ok: true, value: undefined });
        }
      } catch (error) {
        if (!isErgonError(error)) throw error;
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  });
}
