/**
 * A lease holder's finish (`finishFlow`), and what follows any finish: the run stopped (its
 * admitted slot freed), a woken parent told to the views. A finish with `next` claims the
 * worker's next flows once it is written (`next.ts`): with one partition in the same script
 * (finish-claim), with more in a claim of its own after it.
 *
 * @module
 */
import type { FinishRequest, FinishResult } from '@ergon/core';
import { homeClaimArgs } from './claim-args.js';
import { claimedRows } from './claimed.js';
import type { StoreCore } from './core.js';
import type { HeldFlow } from './held.js';
import { heldHint } from './hints.js';
import { isLeaseLost, onFlow, stopped } from './leases.js';
import { claimOrNone, nextRequest } from './next.js';
import type { ScriptName } from './scripts.js';
import { finishArgs } from './writes.js';

/** Implements the contract's `finishFlow`: one script (finish-flow, or finish-claim with `next`). */
export async function finishFlow(core: StoreCore, request: FinishRequest): Promise<FinishResult | undefined> {
  const { next } = request;
  if (next === undefined || core.partitioned) {
    const partition = { p: 0 };
    const reply = await finishIn(core, request, 'finish-flow', [], partition);
    await afterFinish(core, partition.p, request, reply);
    if (next === undefined) return undefined;
    const claimed = await claimOrNone(core, nextRequest(next, request.now));
    return claimed === undefined ? {} : { claimed };
  }
  const claim = nextRequest(next, request.now);
  const partition = { p: 0 };
  const [reply, ...rows] = (await finishIn(
    core,
    request,
    'finish-claim',
    homeClaimArgs(core, claim),
    partition,
  )) as unknown[];
  await afterFinish(core, partition.p, request, reply);
  return { claimed: claimedRows(core, partition.p, rows, claim) };
}

/** Runs the finish script `name` in the flow's partition (told in `at`), `extra` after its arguments. */
function finishIn(
  core: StoreCore,
  request: FinishRequest,
  name: ScriptName,
  extra: readonly string[],
  at: { p: number },
): Promise<unknown> {
  const id = request.flowId;
  return onFlow(core, id, request.token, (p) => {
    at.p = p;
    const keys = core.layout.keys(p);
    const args = finishArgs(core.rid(), request);
    return core.runner.write(name, keys, [keys.flow(id)], extra.length > 0 ? [...args, ...extra] : args);
  }).catch(async (error: unknown) => {
    if (isLeaseLost(error)) await stopped(core, id, request.token, true);
    throw error;
  });
}

/** After a finish: the run stopped; a woken parent is news for the views. */
export async function afterFinish(
  core: StoreCore,
  p: number,
  request: FinishRequest,
  reply: unknown,
  held?: HeldFlow,
): Promise<void> {
  held ??= await stopped(core, request.flowId, request.token);
  if (!core.partitioned) return;
  core.tracker.hint(p, heldHint(request.flowId, held));
  if (reply === 'w') core.tracker.hint(p, {});
}
