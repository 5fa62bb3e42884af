/**
 * The read side of the API: session, overview, flows, one flow, workers,
 * pipelines, schedules, queues and the event stream. Flow ids travel in the query string
 * (`?id=`), since an id may contain `/` and `#`.
 *
 * @module
 */
import { validateId } from '@ergon/core';
import type { Hono } from 'hono';
import type { FlowListPage, PipelineGroup, QueuesPage, ScheduleListPage, SessionInfo } from '../api-types.js';
import { flowDetail } from '../data/flow-detail.js';
import { listFlowPage, parseFilter, toRow } from '../data/flow-list.js';
import type { OverviewSource } from '../data/overview.js';
import type { QueueSource } from '../data/queues.js';
import { listSchedules, scheduleDetail, schedulesSupported } from '../data/schedules.js';
import type { EventHub } from '../events.js';
import type { ResolvedOptions } from '../options.js';
import type { DashboardEnv, Secrets } from '../security.js';

/** What the read routes use. */
export interface ReadDeps {
  readonly options: ResolvedOptions;
  readonly secrets: Secrets;
  readonly overview: OverviewSource;
  readonly queues: QueueSource;
  readonly events: EventHub;
}

const PIPELINE_PAGE = 25;

/** Adds the read routes under `api/`. */
export function readRoutes(app: Hono<DashboardEnv>, deps: ReadDeps): void {
  const { options, overview, events } = deps;
  const { client } = options;

  app.get('/api/session', (c) =>
    c.json<SessionInfo>({
      csrf: deps.secrets.csrf,
      readOnly: options.readOnly,
      live: events.live,
      pollMs: options.pollMs,
      store: client.store.name,
      features: {
        schedules: schedulesSupported(client),
        flowControl: client.store.capabilities.flowControl === true,
      },
    }),
  );

  app.get('/api/overview', async (c) => c.json(await overview.get()));

  app.get('/api/workers', async (c) => c.json({ workers: await overview.workers() }));

  app.get('/api/flows', async (c) => {
    const t0 = performance.now();
    const page = await listFlowPage(client, parseFilter(c.req.query()));
    return c.json<FlowListPage>({ ...page, ms: elapsed(t0) });
  });

  app.get('/api/flow', async (c) => {
    const id = validateId(c.req.query('id'), 'flow id');
    return c.json(await flowDetail(client, id, { traceUrl: options.traceUrl, readOnly: options.readOnly }));
  });

  app.get('/api/pipelines', async (c) => {
    const groups = await Promise.all(
      options.pipelines.map(async (p): Promise<PipelineGroup> => {
        const page = await client.list({ type: p.flowType, limit: PIPELINE_PAGE });
        return {
          task: p.task,
          flowType: p.flowType,
          source: p.source,
          flows: page.flows.map(toRow),
          nextCursor: page.nextCursor,
        };
      }),
    );
    return c.json({ pipelines: groups });
  });

  app.get('/api/schedules', async (c) => {
    const t0 = performance.now();
    const page = await listSchedules(client, c.req.query('cursor') || undefined);
    return c.json<ScheduleListPage>({ ...page, ms: elapsed(t0) });
  });

  app.get('/api/schedule', async (c) => {
    const id = validateId(c.req.query('id'), 'schedule id');
    return c.json(await scheduleDetail(client, id, options.readOnly));
  });

  // `?queue=a&queue=b`: queues to show besides the ones the page finds.
  app.get('/api/queues', async (c) => {
    const t0 = performance.now();
    const asked = (c.req.queries('queue') ?? []).map((q) => q.trim()).filter((q) => q !== '');
    const page = await deps.queues.get(asked);
    return c.json<QueuesPage>({ ...page, ms: elapsed(t0) });
  });

  app.get('/api/events', (c) => {
    const flow = c.req.query('flow');
    return events.open(c.req.raw.signal, flow === undefined ? undefined : validateId(flow, 'flow id'));
  });
}

/** Milliseconds since `t0`, to a tenth. */
function elapsed(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}
