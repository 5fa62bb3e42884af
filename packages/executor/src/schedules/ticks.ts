/**
 * What a schedule's ticks are: the flow id of a tick (derived from the
 * schedule id and the tick time, so starting a tick twice creates one flow),
 * and which due ticks the catch-up policy keeps after downtime.
 *
 * @module
 */
import type { ScheduleCatchup } from '@ergon/core';
import type { CronTimes } from './cron.js';

/**
 * How late a tick may start and still count as on time. A tick later than
 * this was missed (the schedule's workers were down or stalled), and the
 * schedule's `catchup` policy decides whether it still starts.
 */
export const SCHEDULE_GRACE_MS = 10_000;

/** The flow id of the tick of `scheduleId` at `tickAt`: `<schedule id>@<ISO time>`. */
export function tickFlowId(scheduleId: string, tickAt: number): string {
  return `${scheduleId}@${new Date(tickAt).toISOString()}`;
}

/** How many missed ticks a policy starts. */
function missedKept(catchup: ScheduleCatchup): number {
  if (catchup === 'none') return 0;
  if (catchup === 'latest') return 1;
  return catchup;
}

/**
 * Where the cursor of a schedule whose next tick is `nextAt` should stand at
 * `now` before any tick starts: at `nextAt` itself when nothing was missed
 * (or every missed tick is kept); else at the oldest missed tick the policy
 * keeps, or at the first on-time tick (possibly still to come) when it keeps none.
 */
export function catchupCursor(options: {
  readonly nextAt: number;
  readonly now: number;
  readonly catchup: ScheduleCatchup;
  readonly times: CronTimes;
  readonly graceMs?: number;
}): number | undefined {
  const { nextAt, now, times } = options;
  const cutoff = now - (options.graceMs ?? SCHEDULE_GRACE_MS);
  if (nextAt >= cutoff) return nextAt;
  const keep = missedKept(options.catchup);
  // The most recent `keep` ticks before the cutoff, latest first; only those not yet handled.
  const kept = keep === 0 ? [] : times.previous(cutoff, keep).filter((t) => t >= nextAt);
  const oldest = kept[kept.length - 1];
  if (oldest !== undefined) return oldest;
  return times.next(cutoff - 1);
}
