/**
 * Actions: send a signal, cancel, retry; pause, resume and trigger a
 * schedule. Each is a POST with a JSON body, behind the action guard
 * (read-only mode, origin and CSRF checks).
 *
 * @module
 */
import { FlowFinishedError, InvalidArgumentError, validateId } from '@ergon/core';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ActionResult } from '../api-types.js';
import type { QueueSource } from '../data/queues.js';
import { triggerSchedule } from '../data/schedules.js';
import type { EventHub } from '../events.js';
import type { ResolvedOptions } from '../options.js';
import { actionGuard, type DashboardEnv, type Secrets } from '../security.js';

/** Largest action body: a signal payload of up to 1 MiB. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Adds the action routes under `api/actions/`. */
export function actionRoutes(
  app: Hono<DashboardEnv>,
  deps: {
    readonly options: ResolvedOptions;
    readonly secrets: Secrets;
    readonly events: EventHub;
    readonly queues: QueueSource;
  },
): void {
  const { options, events } = deps;
  const { client } = options;
  app.use('/api/actions/*', actionGuard(options, deps.secrets));
  app.use(
    '/api/actions/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        c.json(
          { error: { code: 'TOO_LARGE', message: `the request body is over ${MAX_BODY_BYTES} bytes` } },
          413,
        ),
    }),
  );

  app.post('/api/actions/signal', async (c) => {
    const body = await jsonBody(c);
    const id = validateId(body.id, 'flow id');
    if (typeof body.name !== 'string') throw new InvalidArgumentError('a signal needs a name');
    await client.signal(id, body.name, body.payload);
    events.notify(id);
    return c.json<ActionResult>({ ok: true });
  });

  app.post('/api/actions/cancel', async (c) => {
    const body = await jsonBody(c);
    const id = validateId(body.id, 'flow id');
    const reason =
      typeof body.reason === 'string' && body.reason.trim() !== '' ? body.reason.slice(0, 1000) : undefined;
    const flow = await client.get(id, { history: false });
    if (flow.status === 'completed' || flow.status === 'failed')
      throw new FlowFinishedError(id, flow.status, 'cancel');
    const status = await client.cancel(id, reason ?? 'cancelled from the dashboard');
    events.notify(id);
    return c.json<ActionResult>({ ok: true, status });
  });

  app.post('/api/actions/retry', async (c) => {
    const body = await jsonBody(c);
    const id = validateId(body.id, 'flow id');
    const retried = options.retry ? await options.retry(id) : await client.retry(id);
    events.notify(retried.id);
    return c.json<ActionResult>({ ok: true, id: retried.id });
  });

  app.post('/api/actions/schedule-pause', async (c) => {
    const id = validateId((await jsonBody(c)).id, 'schedule id');
    const schedule = await client.schedules.pause(id);
    return c.json<ActionResult>({ ok: true, paused: schedule.paused });
  });

  app.post('/api/actions/schedule-resume', async (c) => {
    const id = validateId((await jsonBody(c)).id, 'schedule id');
    const schedule = await client.schedules.resume(id);
    return c.json<ActionResult>({ ok: true, paused: schedule.paused });
  });

  // One flow now, as a tick would, without moving the schedule.
  app.post('/api/actions/schedule-trigger', async (c) => {
    const id = validateId((await jsonBody(c)).id, 'schedule id');
    const flowId = await triggerSchedule(client, id);
    deps.queues.invalidate();
    events.notify(flowId);
    return c.json<ActionResult>({ ok: true, id: flowId });
  });
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json'))
    throw new InvalidArgumentError('actions take a JSON body (content-type: application/json)');
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new InvalidArgumentError('the request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InvalidArgumentError('the request body must be a JSON object');
  return body as Record<string, unknown>;
}
