/**
 * Purge: terminal flows finished before a cut-off are deleted with their
 * history and signals, in transactions of {@link PURGE_BATCH} flows, so a
 * purge never holds the write lock for long and other connections get it in
 * between.
 *
 * @module
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { PurgeRequest } from '@ergon/core';
import type { StoreCore } from './core.js';
import { historyRange } from './history-keys.js';
import type { TxContext } from './queries.js';

/** Flows deleted per purge transaction, so a purge never holds the write lock for long. */
const PURGE_BATCH = 100;

/** Deletes up to `limit` terminal flows finished before the cut-off, with history and signals. */
export function purgeBatch({ q }: TxContext, finishedBefore: number, limit: number): number {
  const flows = q.purgeable.all({ before: finishedBefore, limit });
  for (const { id, num } of flows) {
    const range = historyRange(num);
    if (range) q.deleteHistory.run({ first: range[0], last: range[1] });
    q.deleteSpilled.run({ id });
    q.deleteSignals.run({ id });
    q.deleteFlow.run({ id });
  }
  return flows.length;
}

/** Implements `purge`: batch after batch, each its own transaction, until one deletes fewer. */
export async function purgeFinished(core: StoreCore, request: PurgeRequest): Promise<number> {
  const { runner, ctx } = core;
  const { finishedBefore, limit } = request;
  let purged = 0;
  while (purged < limit) {
    const batch = Math.min(PURGE_BATCH, limit - purged);
    const deleted = await runner.write(() => purgeBatch(ctx, finishedBefore, batch));
    purged += deleted;
    if (deleted < batch) break;
    await yieldToLoop();
  }
  return purged;
}
