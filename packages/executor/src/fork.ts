/**
 * `client.fork`: a new flow whose history is a copy of another's before a
 * position, optionally with an edited input or edited recorded results, run
 * from there by any worker of its type. Written with the store's `importFlow`
 * in one atomic step; `dryRun` returns the same plan without writing.
 *
 * @module
 */
import {
  type Clock,
  type Codec,
  FlowNotFoundError,
  InvalidArgumentError,
  type RuntimeExecutionLog,
  uuidv7,
  validateId,
} from '@ergon/core';
import { type ForkOptions, type ForkPlan, planFork } from './fork-plan.js';

/** What {@link Client.fork} returns. */
export interface ForkResult {
  /** What the fork does (or, with `dryRun`, would do). */
  readonly plan: ForkPlan;
  /** The new flow's id; nothing was written when `dryRun`. */
  readonly flowId: string;
  /** True when the new flow was written (false with `dryRun`). */
  readonly created: boolean;
}

/** Forks `flowId` (see {@link ForkOptions}). */
export async function forkFlow(
  context: { readonly store: RuntimeExecutionLog; readonly clock: Clock; readonly codec: Codec },
  flowId: string,
  options: ForkOptions,
): Promise<ForkResult> {
  const { store, clock, codec } = context;
  validateId(flowId, 'flow id');
  if (typeof options !== 'object' || options === null || options.at === undefined)
    throw new InvalidArgumentError('fork needs { at }: the position or step key to fork from');
  const flow = await store.getFlow(flowId);
  if (!flow) throw new FlowNotFoundError(flowId);
  const [history, signals] = await Promise.all([store.getHistory(flowId), store.getSignals(flowId)]);
  const now = clock.now();
  const newId = options.flowId ?? `${flowId}~fork-${uuidv7(now)}`;
  validateId(newId, 'fork flow id');
  const { plan, request } = planFork({ flow, history, signals }, options, { codec, now, flowId: newId });
  if (options.dryRun) return { plan, flowId: newId, created: false };
  const imported = await store.importFlow(request);
  if (!imported.created) {
    throw new InvalidArgumentError(
      `flow ${JSON.stringify(newId)} already exists: give the fork another flowId`,
      {
        details: { flowId: newId },
      },
    );
  }
  return { plan, flowId: newId, created: true };
}
