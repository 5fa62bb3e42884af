/**
 * How a worker stops claiming, for a pause or for good: its claim loop and
 * runs in flight are waited for within a deadline (`drain`), and a paused
 * worker is unparked (`unpark`): on a store with hand-off its last claim may
 * have parked it (`ClaimRequest.park`), and creates would then hand it flows it
 * can only give back.
 *
 * @module
 */
import { type Clock, type Logger, type RuntimeExecutionLog, toError } from '@ergon/core';
import type { Housekeeping } from './housekeeping.js';
import type { WorkerRuns } from './worker-runs.js';

/** What {@link drain} waits for. */
export interface DrainOptions {
  /** The claim loop, told to end. */
  readonly loop: Promise<void>;
  readonly runs: WorkerRuns;
  readonly housekeeping: Housekeeping;
  readonly timeoutMs: number;
}

/**
 * Waits for the claim loop, the runs in flight and a housekeeping pass, at most `timeoutMs` (the
 * deadline covers the claim loop too: a store that hangs must not hang shutdown); then the runs
 * still going are abandoned and their leases released, waiting at most 1 s more.
 */
export async function drain(options: DrainOptions): Promise<void> {
  const { loop, runs, housekeeping, timeoutMs } = options;
  const settled = () => Promise.all([loop, runs.settled(), housekeeping.settled()]);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const first = await Promise.race([loop.then(settled), deadline]);
  if (first === 'timeout') {
    runs.stopAll();
    await Promise.race([settled(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  }
  clearTimeout(timer);
}

/** What {@link unpark} needs. */
export interface UnparkOptions {
  readonly store: RuntimeExecutionLog;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly workerId: string;
  readonly types: readonly string[];
  readonly queues: readonly string[];
  readonly leaseMs: number;
}

/**
 * Unparks `workerId` on a store with hand-off (nothing on others); never throws. Any claim unparks
 * a worker; this one asks for at most one flow and gives it back at once, in its place.
 */
export async function unpark(options: UnparkOptions): Promise<void> {
  const { store, clock, logger, workerId, types, queues, leaseMs } = options;
  if (store.capabilities.handOff !== true) return;
  try {
    const claimed = await store.claim({ workerId, types, queues, limit: 1, leaseMs, now: clock.now() });
    // Given back without an error (not an abandoned run), due when it was: it keeps its place.
    for (const { flow, token } of claimed)
      await store.releaseLease({ flowId: flow.id, token, now: clock.now(), retryAt: flow.runAt });
  } catch (error) {
    logger.warn('unparking a paused worker failed', { error: toError(error).message });
  }
}
