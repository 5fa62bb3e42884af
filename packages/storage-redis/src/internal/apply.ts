/**
 * `applyWrites` across partitions: the writes are grouped by their flow's
 * partition, and each group is one apply-writes script (in order within it,
 * so the writes of one flow keep their order); the groups run at once. A
 * group that fails (its master unreachable) fails only its own writes.
 *
 * @module
 */
import type { BatchOutcome, BatchWrite } from '@ergon/core';
import type { AdmittedRun } from './admission.js';
import { leaseContext } from './args.js';
import type { StoreCore } from './core.js';
import { toStoreError } from './errors.js';
import type { HeldFlow } from './held.js';
import { afterFinish, afterSuspend, partitionOf } from './leases.js';
import { HOME } from './partitions.js';
import { batchArgs, batchOutcomes } from './writes.js';

/** The partition a write goes to. */
function writePartition(core: StoreCore, write: BatchWrite): Promise<number> {
  return partitionOf(core, write.request.flowId, write.request.token);
}

/** Implements the contract's `applyWrites`: one script per partition touched. */
export async function applyWrites(core: StoreCore, writes: readonly BatchWrite[]): Promise<BatchOutcome[]> {
  const groups = new Map<number, number[]>();
  if (core.partitioned) {
    const partitions = await Promise.all(writes.map((w) => writePartition(core, w)));
    for (const [i, p] of partitions.entries()) {
      const group = groups.get(p) ?? [];
      group.push(i);
      groups.set(p, group);
    }
  } else {
    groups.set(
      HOME,
      writes.map((_, i) => i),
    );
  }
  const outcomes: BatchOutcome[] = new Array(writes.length);
  const freed: AdmittedRun[] = [];
  await Promise.all(
    [...groups].map(async ([p, indexes]) => {
      const group = indexes.map((i) => writes[i] as BatchWrite);
      const keys = core.layout.keys(p);
      let reply: unknown;
      try {
        reply = await core.runner.write(
          'apply-writes',
          keys,
          [keys.flow((group[0] as BatchWrite).request.flowId)],
          batchArgs(
            group,
            () => core.rid(),
            (flowId, token) => core.held.plain(flowId, token),
          ),
        );
      } catch (error) {
        core.runner.noteError(error);
        for (const [j, i] of indexes.entries()) {
          const write = group[j] as BatchWrite;
          outcomes[i] = {
            ok: false,
            error: toStoreError(error, leaseContext(`apply ${write.op}`, write.request)),
          };
        }
        return;
      }
      const results = batchOutcomes(group, reply);
      // A row per write, or 1 for a common outcome (writes.ts: batchOutcomes).
      const rows = Array.isArray(reply) ? (reply as unknown[]) : [];
      for (const [j, i] of indexes.entries()) {
        const write = group[j] as BatchWrite;
        const outcome = results[j] as BatchOutcome;
        outcomes[i] = outcome;
        const row = rows[j];
        const after = follow(core, p, write, outcome, Array.isArray(row) ? row[1] : undefined, freed);
        if (after) await after;
      }
    }),
  );
  if (freed.length > 0) await core.admission.release(freed).catch(() => {});
  return outcomes;
}

/**
 * What a write's single call would do after it: forget a stopped run, tell the views (a promise
 * only when there is something to wait for: with one partition, nothing).
 */
function follow(
  core: StoreCore,
  p: number,
  write: BatchWrite,
  outcome: BatchOutcome,
  reply: unknown,
  freed: AdmittedRun[],
): Promise<void> | undefined {
  if (write.op === 'record') return undefined;
  const { flowId, token } = write.request;
  if (!outcome.ok) {
    const code = (outcome.error as { code?: string } | undefined)?.code;
    if (code === 'LEASE_LOST') core.held.take(flowId, token);
    return undefined;
  }
  if (write.op === 'suspend' && reply === 'ready') return undefined;
  const held: HeldFlow | undefined = core.held.take(flowId, token);
  if (held?.admitted) freed.push(held.admitted);
  // afterFinish and afterSuspend only tell the partition views, which one partition has none of.
  if (!core.partitioned) return undefined;
  if (write.op === 'finish') return afterFinish(core, p, write.request, reply, held);
  return afterSuspend(core, p, write.request, reply as 'suspended' | 'cancelled', held);
}
