/**
 * Schedules for the dashboard (`client.schedules`): a page of them with the
 * status of each one's last tick, one with its input and the flows it
 * started, and starting one flow now as a tick would. A store that keeps no
 * schedules answers an empty, unsupported list; the runtime wrapper refuses
 * the rest there (INVALID_ARGUMENT, saying the store keeps none).
 *
 * @module
 */
import { type Client, type ScheduleInfo, tickFlowId } from '@ergon/executor';
import type { ScheduleDetail, ScheduleListPage, ScheduleView } from '../control-types.js';
import { preview } from '../internal/values.js';
import { listFlowPage } from './flow-list.js';

/** Schedules one page shows. */
const PAGE = 100;
/** Flows of one schedule its page lists. */
const FLOWS_SHOWN = 25;
/** What a flow started from the dashboard carries after its tick-like id. */
export const TRIGGERED_SUFFIX = '.now';

/** True when the client's store keeps schedules. */
export function schedulesSupported(client: Client): boolean {
  return client.store.schedules.supported;
}

/** One page of schedules, in id order, each with its last tick's status. */
export async function listSchedules(
  client: Client,
  cursor: string | undefined,
): Promise<Omit<ScheduleListPage, 'ms'>> {
  if (!schedulesSupported(client)) return { supported: false, schedules: [] };
  const page = await client.schedules.list({ limit: PAGE, cursor });
  const schedules = await Promise.all(page.schedules.map((s) => scheduleView(client, s)));
  return { supported: true, schedules, nextCursor: page.nextCursor };
}

/** One schedule with its input and the flows it started. @throws ScheduleNotFoundError. */
export async function scheduleDetail(client: Client, id: string, readOnly: boolean): Promise<ScheduleDetail> {
  const info = await client.schedules.get(id);
  const [view, flows] = await Promise.all([
    scheduleView(client, info),
    // Every flow it starts has the id `<id>@<tick time>` (and the schedule's flow type).
    listFlowPage(client, { type: info.flowType, id: `${id}@`, limit: FLOWS_SHOWN }),
  ]);
  return {
    ...view,
    input: preview(info.input),
    flows: flows.flows,
    moreFlows: flows.flows.length >= FLOWS_SHOWN,
    now: Date.now(),
    actions: { pause: !readOnly && !info.paused, resume: !readOnly && info.paused, trigger: !readOnly },
  };
}

/**
 * Starts one flow of the schedule now, as a tick would (its type, queue, priority and
 * input), without moving the schedule: its next tick and overlap bookkeeping stay as they
 * are. Its id is the tick id of now with {@link TRIGGERED_SUFFIX}. Returns that id.
 * @throws ScheduleNotFoundError.
 */
export async function triggerSchedule(client: Client, id: string): Promise<string> {
  const info = await client.schedules.get(id);
  const flowId = `${tickFlowId(id, Date.now())}${TRIGGERED_SUFFIX}`;
  const handle = await client.schedule(info.flowType, info.input, {
    flowId,
    queue: info.queue,
    priority: info.priority,
  });
  return handle.id;
}

async function scheduleView(client: Client, s: ScheduleInfo): Promise<ScheduleView> {
  const last =
    s.lastFlowId === undefined ? undefined : await client.store.getFlow(s.lastFlowId).catch(() => undefined);
  return {
    id: s.id,
    flowType: s.flowType,
    queue: s.queue,
    priority: s.priority,
    cron: s.cron,
    timezone: s.timezone,
    overlap: s.overlap,
    catchup: s.catchup,
    paused: s.paused,
    nextRunAt: s.nextRunAt?.getTime(),
    upcoming: s.upcoming.map((d) => d.getTime()),
    lastFlowId: s.lastFlowId,
    lastTickAt: s.lastFlowId === undefined ? undefined : tickTime(s.lastFlowId),
    lastStatus: last?.status,
    bufferedAt: s.bufferedAt?.getTime(),
    revision: s.revision,
    createdAt: s.createdAt.getTime(),
    updatedAt: s.updatedAt.getTime(),
  };
}

/** The tick time of a tick's flow id (`<schedule id>@<ISO time>`). */
function tickTime(flowId: string): number | undefined {
  const at = Date.parse(flowId.slice(flowId.lastIndexOf('@') + 1));
  return Number.isFinite(at) ? at : undefined;
}
