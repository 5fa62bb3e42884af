/**
 * `applyWrites` across partitions: the writes are grouped by their flow's
 * partition, and each group is one apply-writes script (in order within it,
 * so the writes of one flow keep their order); the groups run at once. A
 * group that fails (its master unreachable) fails only its own writes.
 * Finishes with `next` claim once the writes are made (`next.ts`): with one
 * partition in the same script (apply-claim), with more in claims of their own.
 *
 * @module
 */
import type { BatchOutcome, BatchWrite } from '@ergon/core';
import type { AdmittedRun } from './admission.js';
import { leaseContext } from './args.js';
import type { StoreCore } from './core.js';
import { toStoreError } from './errors.js';
import { afterFinish } from './finish.js';
import type { HeldFlow } from './held.js';
import { afterSuspend, partitionOf } from './leases.js';
import { claimAfter, claimedOf, claimSection, mergeNext, shareClaims } from './next.js';
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
  // The finishes' next claims: in the script with one partition, after the writes with more.
  const claims = mergeNext(writes);
  const inScript = claims.length > 0 && !core.partitioned ? claims : undefined;
  await Promise.all(
    [...groups].map(async ([p, indexes]) => {
      const group = indexes.map((i) => writes[i] as BatchWrite);
      const keys = core.layout.keys(p);
      let reply: unknown;
      let claimReplies: unknown[] = [];
      try {
        const args = batchArgs(
          group,
          () => core.rid(),
          (flowId, token) => core.held.plain(flowId, token),
        );
        const first = [keys.flow((group[0] as BatchWrite).request.flowId)];
        if (inScript) {
          args.push(...claimSection(core, writes, inScript));
          [reply, ...claimReplies] = (await core.runner.write('apply-claim', keys, first, args)) as unknown[];
        } else reply = await core.runner.write('apply-writes', keys, first, args);
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
      // One partition: the group is the batch, and its claims' flows are shared out here.
      if (inScript) shareClaims(writes, inScript, claimedOf(core, inScript, claimReplies), results);
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
  if (claims.length > 0 && !inScript) await claimAfter(core, writes, claims, outcomes);
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
