// Schedules through the dashboard's API, without a browser: schedules created with the Client
// in a real SQLite store, fired by a real worker; the list and one schedule's answer show their
// definition, state, ticks and flows; pause, resume and run-now change the store; read-only mode
// refuses them; and a store that keeps no schedules and has no flow control says so.
import { type ExecutionLog, InMemoryExecutionLog } from '@ergon/core';
import { Client, flow, type Worker } from '@ergon/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ActionResult,
  QueuesPage,
  ScheduleDetail,
  ScheduleListPage,
  SessionInfo,
} from '../src/index.js';
import {
  eventually,
  type Served,
  serve,
  sqliteStore,
  startWorker,
  TOKEN,
  withoutFeatures,
} from './support.js';

const report = flow('sched-report', async (_ctx, input: { region: string }) => `report ${input.region}`);

let store: ExecutionLog;
let remove: () => Promise<void>;
let worker: Worker;
let client: Client;
let served: Served;
let readOnly: Served;
const bearer = { authorization: `Bearer ${TOKEN}` };

const call = (base: Served, path: string, body?: unknown) =>
  fetch(new URL(path, base.url), {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...bearer, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const json = async <T>(base: Served, path: string, body?: unknown): Promise<T> => {
  const res = await call(base, path, body);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
};

beforeAll(async () => {
  ({ store, remove } = await sqliteStore());
  worker = startWorker(store, [report]);
  client = new Client({ store });
  served = await serve(store);
  readOnly = await serve(store, { readOnly: true });
  await client.schedules.create({
    id: 'nightly',
    flow: report,
    cron: '0 3 * * *',
    timezone: 'Europe/Berlin',
    input: { region: 'eu' },
    overlap: 'buffer-one',
    catchup: 3,
    priority: 2,
  });
});

afterAll(async () => {
  await served?.close();
  await readOnly?.close();
  await worker?.stop({ timeout: '2s' });
  await remove?.();
});

describe('schedules', () => {
  it('lists each schedule with its cron, time zone, policies, state and next ticks', async () => {
    const session = await json<SessionInfo>(served, 'api/session');
    expect(session.features).toEqual({ schedules: true, flowControl: true });
    const page = await json<ScheduleListPage>(served, 'api/schedules');
    expect(page.supported).toBe(true);
    const nightly = page.schedules.find((s) => s.id === 'nightly');
    expect(nightly).toMatchObject({
      flowType: 'sched-report',
      queue: 'default',
      priority: 2,
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      overlap: 'buffer-one',
      catchup: 3,
      paused: false,
    });
    expect(nightly?.nextRunAt).toBe((await client.schedules.get('nightly')).nextRunAt?.getTime());
    expect(nightly?.upcoming).toHaveLength(5);
    expect(nightly?.lastFlowId).toBeUndefined();
  });

  it('pauses and resumes a schedule in the store, and runs one flow now without moving it', async () => {
    const before = await client.schedules.get('nightly');
    const paused = await json<ActionResult>(served, 'api/actions/schedule-pause', { id: 'nightly' });
    expect(paused).toEqual({ ok: true, paused: true });
    expect((await client.schedules.get('nightly')).paused).toBe(true);
    const shown = await json<ScheduleDetail>(served, 'api/schedule?id=nightly');
    expect(shown).toMatchObject({ paused: true, upcoming: [], actions: { pause: false, resume: true } });
    expect(shown.nextRunAt).toBeUndefined();

    expect(await json(served, 'api/actions/schedule-resume', { id: 'nightly' })).toEqual({
      ok: true,
      paused: false,
    });
    expect((await client.schedules.get('nightly')).paused).toBe(false);

    const run = await json<ActionResult>(served, 'api/actions/schedule-trigger', { id: 'nightly' });
    expect(run.id).toMatch(/^nightly@\d{4}-\d\d-\d\dT[\d:.]+Z\.now$/);
    expect(await client.result(run.id as string, { timeout: '30s' })).toBe('report eu');
    const flow = await client.get(run.id as string, { history: false });
    expect(flow).toMatchObject({ type: 'sched-report', queue: 'default', priority: 2 });
    const after = await client.schedules.get('nightly');
    expect(after.nextRunAt).toEqual(before.nextRunAt);
    expect(after.lastFlowId).toBeUndefined();
    const detail = await json<ScheduleDetail>(served, 'api/schedule?id=nightly');
    expect(detail.flows.map((f) => [f.id, f.status])).toEqual([[run.id, 'completed']]);
    expect(detail.input.text).toContain('"region": "eu"');
  });

  it('shows the flows a firing schedule started and its last tick', async () => {
    await client.schedules.create({
      id: 'every-second',
      flow: report,
      cron: '* * * * * *',
      input: { region: 'us' },
      catchup: 'none',
    });
    const last = await eventually(async () => {
      const page = await json<ScheduleListPage>(served, 'api/schedules');
      const s = page.schedules.find((x) => x.id === 'every-second');
      return s?.lastFlowId !== undefined && s.lastStatus === 'completed' ? s : undefined;
    });
    await client.schedules.pause('every-second');
    expect(last.lastFlowId).toMatch(/^every-second@/);
    expect(last.lastTickAt).toBe(Date.parse((last.lastFlowId as string).slice('every-second@'.length)));
    const detail = await json<ScheduleDetail>(served, 'api/schedule?id=every-second');
    expect(detail.flows.map((f) => f.id)).toContain(last.lastFlowId);
    expect(detail.flows.every((f) => f.id.startsWith('every-second@') && f.type === 'sched-report')).toBe(
      true,
    );
  });

  it('answers 404 for an unknown schedule and 400 for a bad id', async () => {
    const missing = await call(served, 'api/schedule?id=no-such');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('SCHEDULE_NOT_FOUND');
    expect((await call(served, 'api/actions/schedule-pause', { id: 'no-such' })).status).toBe(404);
    expect((await call(served, 'api/actions/schedule-pause', { id: 'a b' })).status).toBe(400);
  });

  it('in read-only mode refuses every schedule action and offers none', async () => {
    for (const action of ['schedule-pause', 'schedule-resume', 'schedule-trigger']) {
      const res = await call(readOnly, `api/actions/${action}`, { id: 'nightly' });
      expect(res.status, action).toBe(403);
    }
    expect((await client.schedules.get('nightly')).paused).toBe(false);
    const detail = await json<ScheduleDetail>(readOnly, 'api/schedule?id=nightly');
    expect(detail.actions).toEqual({ pause: false, resume: false, trigger: false });
  });
});

describe('a store without schedules or flow control', () => {
  it('says neither is supported, and refuses schedule actions saying why', async () => {
    const bare = withoutFeatures(new InMemoryExecutionLog());
    const plain = await serve(bare);
    try {
      const session = await json<SessionInfo>(plain, 'api/session');
      expect(session.features).toEqual({ schedules: false, flowControl: false });
      expect(await json<ScheduleListPage>(plain, 'api/schedules')).toMatchObject({
        supported: false,
        schedules: [],
      });
      expect(await json<QueuesPage>(plain, 'api/queues')).toMatchObject({ supported: false, queues: [] });
      const refused = await call(plain, 'api/actions/schedule-pause', { id: 'nightly' });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
        'keeps no schedules',
      );
    } finally {
      await plain.close();
      await bare.close();
    }
  });
});
