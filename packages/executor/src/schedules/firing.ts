/**
 * Firing a schedule's due ticks (one pass, at one `now`): the buffered tick
 * once the flow it waits for has finished, the catch-up policy after
 * downtime, then each due tick in order with its overlap policy. Each tick
 * creates its flow (by its derived id) first and advances the cursor by
 * compare-and-set second, so any number of workers may race on one schedule:
 * a tick starts one flow, and a crash between the two steps re-creates the
 * same flow (a no-op) and then advances.
 *
 * @module
 */
import {
  type Clock,
  isTerminalStatus,
  type Logger,
  type RuntimeExecutionLog,
  type ScheduleRecord,
  type ScheduleState,
} from '@ergon/core';
import { compileCron, type CronTimes } from './cron.js';
import { catchupCursor, tickFlowId } from './ticks.js';

/** Steps one pass takes on one schedule at most; the rest waits for the next pass. */
const MAX_STEPS = 100;

/** What firing needs. */
export interface FiringDeps {
  readonly store: RuntimeExecutionLog;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How late a tick may start and still be on time (default `SCHEDULE_GRACE_MS`). */
  readonly graceMs?: number;
  /** A tick's flow-control key and limit, from its flow definition (`concurrencyKey(input)`). */
  readonly control?: ((type: string, input: string) => FlowKeyFields) | undefined;
}

/** The concurrency key and limit a started flow carries (flow control). */
export interface FlowKeyFields {
  readonly concurrencyKey?: string | undefined;
  readonly concurrencyLimit?: number | undefined;
}

/** A schedule's state without its identity and bookkeeping. */
export function stateOf(schedule: ScheduleRecord): ScheduleState {
  return {
    type: schedule.type,
    queue: schedule.queue,
    cron: schedule.cron,
    timezone: schedule.timezone,
    input: schedule.input,
    priority: schedule.priority,
    overlap: schedule.overlap,
    catchup: schedule.catchup,
    paused: schedule.paused,
    nextAt: schedule.nextAt,
    lastFlowId: schedule.lastFlowId,
    bufferedAt: schedule.bufferedAt,
  };
}

/**
 * Starts what is due of `schedule` at `now`. Returns the schedule as it stands after
 * (undefined when it was deleted meanwhile), and whether the pass stopped early.
 */
export async function fireSchedule(
  deps: FiringDeps,
  schedule: ScheduleRecord,
  now: number,
): Promise<{ schedule: ScheduleRecord | undefined; more: boolean }> {
  const { store } = deps;
  let current: ScheduleRecord | undefined = schedule;
  let times: CronTimes | undefined;
  for (let step = 0; step < MAX_STEPS; step++) {
    if (!current || current.paused) return { schedule: current, more: false };
    const s: ScheduleRecord = current;
    times ??= compileCron(s.id, s.cron, s.timezone, now);
    const change = await nextChange(deps, s, times, now);
    if (!change) return { schedule: s, more: false };
    const updated = await store.schedules.updateSchedule({
      id: s.id,
      revision: s.revision,
      state: { ...stateOf(s), ...change },
      now: deps.clock.now(),
    });
    // Lost the race (another worker advanced it, or someone edited it): read it again.
    current = updated ?? (await store.schedules.getSchedule(s.id));
    if (current && (current.cron !== s.cron || current.timezone !== s.timezone)) times = undefined;
  }
  return { schedule: current, more: true };
}

/**
 * The next change of the cursor, after starting the flow it records (if any);
 * undefined when nothing is due.
 */
async function nextChange(
  deps: FiringDeps,
  s: ScheduleRecord,
  times: CronTimes,
  now: number,
): Promise<Partial<ScheduleState> | undefined> {
  if (s.bufferedAt !== undefined && !(await isBusy(deps, s.lastFlowId))) {
    const flowId = await startTick(deps, s, s.bufferedAt);
    return { bufferedAt: undefined, lastFlowId: flowId };
  }
  if (s.nextAt === undefined || s.nextAt > now) return undefined;
  const target = catchupCursor({ nextAt: s.nextAt, now, catchup: s.catchup, times, graceMs: deps.graceMs });
  if (target !== s.nextAt) {
    deps.logger.info('schedule missed ticks; catching up by its policy', {
      scheduleId: s.id,
      from: new Date(s.nextAt).toISOString(),
      to: target === undefined ? 'never' : new Date(target).toISOString(),
      catchup: s.catchup,
    });
    return { nextAt: target };
  }
  const tickAt = s.nextAt;
  const nextAt = times.next(tickAt);
  const flowId = tickFlowId(s.id, tickAt);
  // Started already (a worker crashed before advancing): it is this tick's flow.
  if (await deps.store.getFlow(flowId)) return { nextAt, lastFlowId: flowId };
  if (s.overlap !== 'allow' && (await isBusy(deps, s.lastFlowId))) {
    if (s.overlap === 'skip') return { nextAt };
    return { nextAt, bufferedAt: s.bufferedAt ?? tickAt };
  }
  await startTick(deps, s, tickAt);
  return { nextAt, lastFlowId: flowId };
}

/** True while `flowId` exists and has not finished. */
async function isBusy(deps: FiringDeps, flowId: string | undefined): Promise<boolean> {
  if (flowId === undefined) return false;
  const flow = await deps.store.getFlow(flowId);
  return flow !== undefined && !isTerminalStatus(flow.status);
}

/** Creates the flow of the tick at `tickAt` (idempotent by its derived id); returns its id. */
async function startTick(deps: FiringDeps, s: ScheduleRecord, tickAt: number): Promise<string> {
  const id = tickFlowId(s.id, tickAt);
  const { created } = await deps.store.createFlow({
    id,
    type: s.type,
    queue: s.queue,
    input: s.input,
    priority: s.priority,
    // The time of the start itself, not of the pass that decided it.
    runAt: deps.clock.now(),
    now: deps.clock.now(),
    ...deps.control?.(s.type, s.input),
  });
  if (created) deps.logger.debug('schedule tick started', { scheduleId: s.id, flowId: id });
  return id;
}
