/**
 * Queue limits (flow control) on a partitioned store: the home partition
 * keeps them, with the state they are enforced on; every other partition
 * keeps a copy of the limits, so its claims know to leave a limited queue to
 * admission (`admission.ts`). With one partition, the one copy is all.
 *
 * @module
 */
import {
  type ConfigureQueueRequest,
  hasLimits,
  type QueueLimits,
  type QueueState,
  type QueueStateRequest,
} from '@ergon/core';
import { optArg } from './codec.js';
import type { StoreCore } from './core.js';
import { HOME } from './partitions.js';

/** Implements the contract's `configureQueue`: every partition's copy, the home's first. */
export async function configureQueue(core: StoreCore, request: ConfigureQueueRequest): Promise<void> {
  const limits = hasLimits(request.limits) ? JSON.stringify(request.limits) : undefined;
  const configure = (p: number) => {
    const keys = core.layout.keys(p);
    return core.runner.write('configure-queue', keys, [keys.created], [request.queue, optArg(limits)]);
  };
  await configure(HOME);
  await Promise.all(core.layout.parts.map((_, p) => (p === HOME ? undefined : configure(p))));
  if (!core.partitioned) return;
  if (limits) core.limited.add(request.queue);
  else core.limited.delete(request.queue);
  for (let p = 0; p < core.layout.count; p++) core.tracker.hint(p, { queue: request.queue });
}

/** Implements the contract's `getQueueState`, in the home partition (admitted runs included). */
export async function getQueueState(core: StoreCore, request: QueueStateRequest): Promise<QueueState> {
  const keys = core.layout.keys(HOME);
  const [limits, running, keyRunning, recentStarts] = (await core.runner.read(
    'queue-state',
    keys,
    [keys.created],
    [request.queue, String(request.now), optArg(request.key)],
  )) as [string | null, number, number, number];
  return {
    limits: typeof limits === 'string' ? (JSON.parse(limits) as QueueLimits) : undefined,
    running,
    keyRunning,
    recentStarts,
  };
}
