// Flow control through the dashboard's API, without a browser: queues configured in a real
// SQLite store with a real worker claiming within their limits; the Queues answer shows each
// queue's limits beside what counts against them (running, rate window, per-key running), and a
// pending flow's row and page say why it waits. Workers show the code versions they serve.
import type { ExecutionLog } from '@ergon/core';
import { Client, flow, type Worker } from '@ergon/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowDetail, FlowListPage, QueuesPage, WorkerView } from '../src/index.js';
import { eventually, type Served, serve, sqliteStore, startWorker, TOKEN } from './support.js';

let release = () => {};
const gate = new Promise<void>((resolve) => {
  release = resolve;
});
const held = flow(
  'fc-held',
  async (ctx, _input: { n: number }) => {
    await ctx.run('hold', () => gate);
    return 'done';
  },
  { version: '2' },
);
const quick = flow('fc-quick', async () => 'ok');

let store: ExecutionLog;
let remove: () => Promise<void>;
let worker: Worker;
let client: Client;
let served: Served;
const bearer = { authorization: `Bearer ${TOKEN}` };
const api = async <T>(path: string): Promise<T> => {
  const res = await fetch(new URL(path, served.url), { headers: bearer });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
};
const queue = async (name: string) =>
  (await api<QueuesPage>(`api/queues?queue=${name}`)).queues.find((q) => q.name === name);

beforeAll(async () => {
  ({ store, remove } = await sqliteStore());
  client = new Client({ store });
  await client.queues.configure('fc-limited', { concurrency: 1, rate: { limit: 100, period: '1m' } });
  await client.queues.configure('fc-keyed', { keyConcurrency: 1, keyWeights: { gold: 3 } });
  await client.queues.configure('fc-rated', { rate: { limit: 1, period: '1h' } });
  worker = startWorker(store, [held, quick], {
    queues: ['default', 'fc-limited', 'fc-keyed', 'fc-rated'],
    versions: { 'fc-held': ['1', '2'] },
  });
  served = await serve(store);
});

afterAll(async () => {
  release();
  await served?.close();
  await worker?.stop({ timeout: '2s' });
  await remove?.();
});

/** Waits until `n` flows of `ids` run, and returns the others' ids. */
async function runningAndWaiting(ids: readonly string[], n: number): Promise<string[]> {
  return eventually(async () => {
    const flows = await Promise.all(ids.map((id) => client.get(id, { history: false })));
    const running = flows.filter((f) => f.status === 'running');
    const waiting = flows.filter((f) => f.status === 'pending' && f.waitingFor !== undefined);
    return running.length === n && waiting.length === ids.length - n ? waiting.map((f) => f.id) : undefined;
  });
}

describe('queues with limits', () => {
  it('shows a queue’s concurrency and rate limits beside its running flows, and why the next one waits', async () => {
    await client.schedule(held, { n: 1 }, { flowId: 'fc-l1', queue: 'fc-limited' });
    await client.schedule(held, { n: 2 }, { flowId: 'fc-l2', queue: 'fc-limited' });
    const [waiting] = await runningAndWaiting(['fc-l1', 'fc-l2'], 1);
    const q = await queue('fc-limited');
    expect(q).toMatchObject({
      limits: { concurrency: 1, rate: { limit: 100, periodMs: 60_000 } },
      running: 1,
      ready: 1,
      workers: 1,
      waiting: [{ reason: 'queue-concurrency', text: 'queue concurrency limit', count: 1 }],
    });
    expect(q?.recentStarts).toBeGreaterThanOrEqual(1);

    const list = await api<FlowListPage>('api/flows?queue=fc-limited');
    const row = list.flows.find((f) => f.id === waiting);
    expect(row?.waitingFor).toEqual({ reason: 'queue-concurrency', text: 'queue concurrency limit' });
    expect(list.flows.find((f) => f.id !== waiting)?.waitingFor).toBeUndefined();
    const detail = await api<FlowDetail>(`api/flow?id=${waiting}`);
    expect(detail.waitingFor).toMatchObject({
      reason: 'queue-concurrency',
      queue: 'fc-limited',
      running: 1,
      limit: 1,
    });
  });

  it('counts each concurrency key’s running flows against its limit, with its weight', async () => {
    await client.schedule(held, { n: 1 }, { flowId: 'fc-g1', queue: 'fc-keyed', concurrencyKey: 'gold' });
    await client.schedule(held, { n: 2 }, { flowId: 'fc-g2', queue: 'fc-keyed', concurrencyKey: 'gold' });
    await client.schedule(held, { n: 3 }, { flowId: 'fc-s1', queue: 'fc-keyed', concurrencyKey: 'silver' });
    const [waiting] = await runningAndWaiting(['fc-g1', 'fc-g2', 'fc-s1'], 2);
    expect(['fc-g1', 'fc-g2']).toContain(waiting);
    const q = await queue('fc-keyed');
    expect(q?.limits).toEqual({ keyConcurrency: 1, keyWeights: { gold: 3 } });
    expect(q?.running).toBe(2);
    expect(q?.keys).toEqual([
      { key: 'gold', running: 1, queued: 1, limit: 1, weight: 3 },
      { key: 'silver', running: 1, queued: 0, limit: 1 },
    ]);
    expect(q?.waiting).toEqual([{ reason: 'key-concurrency', text: 'key concurrency limit', count: 1 }]);
    const detail = await api<FlowDetail>(`api/flow?id=${waiting}`);
    expect(detail.waitingFor).toMatchObject({ reason: 'key-concurrency', key: 'gold', running: 1, limit: 1 });
  });

  it('shows the rate window in use and a flow held by the rate limit', async () => {
    await client.schedule(quick, undefined, { flowId: 'fc-r1', queue: 'fc-rated' });
    await client.schedule(quick, undefined, { flowId: 'fc-r2', queue: 'fc-rated' });
    const waiting = await eventually(async () => {
      const flows = await Promise.all(['fc-r1', 'fc-r2'].map((id) => client.get(id, { history: false })));
      const done = flows.filter((f) => f.status === 'completed');
      const held = flows.find((f) => f.waitingFor === 'rate-limit');
      return done.length === 1 && held ? held.id : undefined;
    });
    const q = await queue('fc-rated');
    expect(q).toMatchObject({
      limits: { rate: { limit: 1, periodMs: 3_600_000 } },
      recentStarts: 1,
      running: 0,
    });
    const detail = await api<FlowDetail>(`api/flow?id=${waiting}`);
    expect(detail.waitingFor).toMatchObject({
      reason: 'rate-limit',
      recentStarts: 1,
      limit: 1,
      periodMs: 3_600_000,
    });
  });

  it('says a debounced flow gathers calls until its start time', async () => {
    const first = await client.schedule(quick, undefined, { debounce: { key: 'k', delay: '1h' } });
    const detail = await api<FlowDetail>(`api/flow?id=${first.id}`);
    expect(detail.status).toBe('pending');
    expect(detail.waitingFor).toMatchObject({ reason: 'debounce', text: 'debounce (gathering calls)' });
    expect(detail.waitingFor?.runAt).toBeGreaterThan(Date.now() + 3_000_000);
    await client.cancel(first.id);
  });

  it('shows a queue it is asked for even with no flow in it, and refuses a bad queue name', async () => {
    await client.queues.configure('fc-idle', { concurrency: 7 });
    expect(await queue('fc-idle')).toMatchObject({ limits: { concurrency: 7 }, running: 0, ready: 0 });
    const bad = await fetch(new URL('api/queues?queue=a%20b', served.url), { headers: bearer });
    expect(bad.status).toBe(400);
  });
});

describe('workers', () => {
  it('shows the flow types a worker runs and the code versions it serves', async () => {
    const { workers } = await api<{ workers: WorkerView[] }>('api/workers');
    const mine = workers.find((w) => w.id === worker.id);
    expect(mine?.types).toEqual(expect.arrayContaining(['fc-held', 'fc-quick']));
    expect(mine?.versions).toEqual({ 'fc-held': ['1', '2'] });
    expect(mine?.stats).not.toHaveProperty('versions');
  });
});
