// The dashboard over HTTP, without a browser: mounted in a plain Node server
// (at the root and under a prefix) and in a Hono app, guarded by its token,
// refusing actions in read-only mode and from other sites, and acting on a
// real worker's flows.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionLog } from '@ergon/core';
import { Client, flow, type Worker } from '@ergon/executor';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CSRF_HEADER,
  createDashboard,
  type FlowDetail,
  type FlowListPage,
  type SessionInfo,
} from '../src/index.js';
import { eventually, type Served, serve, sqliteStore, startWorker, TOKEN } from './support.js';

const approval = flow('http-approval', async (ctx, input: { order: string }) => {
  await ctx.run('prepare', () => input.order.toUpperCase());
  const by = await ctx.waitForSignal<{ by: string }>('approve');
  return { order: input.order, by: by.by };
});
const sleeper = flow('http-sleeper', async (ctx) => {
  await ctx.sleep('1h');
});
let release = () => {};
const gate = new Promise<void>((resolve) => {
  release = resolve;
});
const busy = flow('http-busy', async (ctx) => {
  await ctx.run('hold', () => gate);
  return 'done';
});

let store: ExecutionLog;
let remove: () => Promise<void>;
let worker: Worker;
let client: Client;
let served: Served;
let readOnly: Served;
const bearer = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  ({ store, remove } = await sqliteStore());
  worker = startWorker(store, [approval, sleeper, busy]);
  client = new Client({ store });
  served = await serve(store, {
    basePath: '/ergon',
    pipelines: [{ task: 'orders', flowType: 'http-approval', source: 'orders.jsonl' }],
  });
  readOnly = await serve(store, { readOnly: true });
});

afterAll(async () => {
  release();
  await served?.close();
  await readOnly?.close();
  await worker?.stop({ timeout: '2s' });
  await remove?.();
});

const api = (base: Served, path: string, init: RequestInit = {}) =>
  fetch(new URL(path, base.url), { ...init, headers: { ...bearer, ...init.headers } });

describe('mounted in a plain Node HTTP server under /ergon', () => {
  it('answers 401 without the token, on the page and on the API', async () => {
    const page = await fetch(served.url);
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('needs its token');
    const list = await fetch(new URL('api/flows', served.url));
    expect(list.status).toBe(401);
    expect(((await list.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    const wrong = await fetch(new URL('api/flows', served.url), {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
  });

  it('serves the page with a strict CSP and its bundled assets with long cache lifetimes', async () => {
    const page = await api(served, '');
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await page.text();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/);
    expect(html).not.toMatch(/https?:\/\//);
    const script = /src="(assets\/app\.js\?v=[0-9a-f]+)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await api(served, script as string);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('serves the page at the bare prefix too, and turns a ?token= into a cookie without the token in the URL', async () => {
    const bare = await fetch(served.url.replace(/\/$/, ''), { headers: bearer, redirect: 'manual' });
    expect(bare.status).toBe(200);
    expect(await bare.text()).toContain('<base href="/ergon/">');
    const first = await fetch(`${served.url}?token=${TOKEN}`, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/ergon/');
    const cookie = first.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const withCookie = await fetch(new URL('api/session', served.url), {
      headers: { cookie: cookie.split(';')[0] as string },
    });
    expect(withCookie.status).toBe(200);
    expect(((await withCookie.json()) as SessionInfo).live).toBe(true);
  });

  it('lists and shows flows a real worker ran, and a signal sent through the API unblocks one', async () => {
    await client.schedule(approval, { order: 'o-1' }, { flowId: 'http-1' });
    await eventually(async () => ((await client.get('http-1')).status === 'suspended' ? true : undefined));
    const page = (await (await api(served, 'api/flows?status=suspended')).json()) as FlowListPage;
    expect(page.flows.map((f) => f.id)).toContain('http-1');
    expect(page.flows.find((f) => f.id === 'http-1')?.waiting).toEqual(['signal approve']);

    const detail = (await (await api(served, 'api/flow?id=http-1')).json()) as FlowDetail;
    expect(detail.timeline.map((t) => t.key)).toEqual(['prepare#0']);
    expect(detail.waits).toEqual([{ kind: 'signal', position: 1, name: 'approve' }]);
    expect(detail.actions).toEqual({ signal: true, cancel: true, retry: false });

    const sent = await api(served, 'api/actions/signal', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'http-1', name: 'approve', payload: { by: 'ada' } }),
    });
    expect(sent.status).toBe(200);
    expect(await client.result('http-1', { timeout: '30s' })).toEqual({ order: 'o-1', by: 'ada' });
  });

  it('refuses a cookie session action without the CSRF header or from another origin', async () => {
    const first = await fetch(`${served.url}?token=${TOKEN}`, { redirect: 'manual' });
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] as string;
    await client.schedule(sleeper, undefined, { flowId: 'http-csrf' });
    const post = (headers: Record<string, string>) =>
      fetch(new URL('api/actions/cancel', served.url), {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ id: 'http-csrf' }),
      });
    const noHeader = await post({});
    expect(noHeader.status).toBe(403);
    expect(((await noHeader.json()) as { error: { code: string } }).error.code).toBe('CSRF');
    const session = (await (
      await fetch(new URL('api/session', served.url), { headers: { cookie } })
    ).json()) as SessionInfo;
    const crossSite = await post({ [CSRF_HEADER]: session.csrf, origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(((await crossSite.json()) as { error: { code: string } }).error.code).toBe('CROSS_SITE');
    expect((await client.get('http-csrf')).status).not.toBe('cancelled');
    const own = new URL(served.url).origin;
    const allowed = await post({ [CSRF_HEADER]: session.csrf, origin: own, 'sec-fetch-site': 'same-origin' });
    expect(allowed.status).toBe(200);
    expect((await client.get('http-csrf')).status).toBe('cancelled');
  });

  it('answers 404 for an unknown flow and 400 for an invalid id', async () => {
    expect((await api(served, 'api/flow?id=no-such-flow')).status).toBe(404);
    expect((await api(served, `api/flow?id=${encodeURIComponent('a b')}`)).status).toBe(400);
  });
});

describe('overview, workers, pipelines and time ranges', () => {
  it('shows the worker holding a running flow, counts by status, and durable-bridge flows by task', async () => {
    await client.schedule(busy, undefined, { flowId: 'http-busy-1' });
    await eventually(async () => ((await client.get('http-busy-1')).status === 'running' ? true : undefined));
    const { workers } = (await (await api(served, 'api/workers')).json()) as {
      workers: {
        id: string;
        pid?: number;
        registered: boolean;
        heartbeatAgeMs?: number;
        flows: { id: string }[];
      }[];
    };
    const holder = workers.find((w) => w.flows.some((f) => f.id === 'http-busy-1'));
    expect(holder?.id).toBe(worker.id);
    expect(holder?.pid).toBe(process.pid);
    // From the store's worker registry: it heartbeats.
    expect(holder?.registered).toBe(true);
    expect(holder?.heartbeatAgeMs).toBeLessThan(10_000);
    const overview = (await (await api(served, 'api/overview')).json()) as {
      byStatus: Record<string, { count: number }>;
      perMinute: { started: number }[];
    };
    expect(overview.byStatus.running?.count).toBeGreaterThanOrEqual(1);
    expect(overview.perMinute).toHaveLength(60);
    expect(overview.perMinute.reduce((n, m) => n + m.started, 0)).toBeGreaterThanOrEqual(1);
    const { pipelines } = (await (await api(served, 'api/pipelines')).json()) as {
      pipelines: { task: string; source: string; flows: { id: string }[] }[];
    };
    expect(pipelines[0]).toMatchObject({ task: 'orders', source: 'orders.jsonl' });
    expect(pipelines[0]?.flows.map((f) => f.id)).toContain('http-1');
    release();
    expect(await client.result('http-busy-1', { timeout: '30s' })).toBe('done');
  });

  it('narrows the list to a time range and an id prefix', async () => {
    const all = (await (await api(served, 'api/flows?limit=100')).json()) as FlowListPage;
    const oldest = all.flows[all.flows.length - 1];
    expect(oldest).toBeDefined();
    const until = (await (await api(served, `api/flows?until=${oldest?.createdAt}`)).json()) as FlowListPage;
    expect(until.flows.every((f) => f.createdAt <= (oldest?.createdAt ?? 0))).toBe(true);
    expect(until.flows.map((f) => f.id)).toContain(oldest?.id);
    const since = (await (
      await api(served, `api/flows?since=${Date.now() + 60_000}`)
    ).json()) as FlowListPage;
    expect(since.flows).toEqual([]);
    const prefix = (await (await api(served, 'api/flows?id=http-busy')).json()) as FlowListPage;
    expect(prefix.flows.map((f) => f.id)).toEqual(['http-busy-1']);
    expect(prefix.scanned).toBeGreaterThan(0);
  });
});

describe('read-only mode', () => {
  it('refuses every action with 403 and shows the flow as not actionable', async () => {
    await client.schedule(sleeper, undefined, { flowId: 'http-ro' });
    for (const action of ['signal', 'cancel', 'retry']) {
      const res = await api(readOnly, `api/actions/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'http-ro', name: 'x' }),
      });
      expect(res.status, action).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('READ_ONLY');
    }
    const detail = (await (await api(readOnly, 'api/flow?id=http-ro')).json()) as FlowDetail;
    expect(detail.actions).toEqual({ signal: false, cancel: false, retry: false });
    expect((await client.get('http-ro')).status).not.toBe('cancelled');
  });
});

describe('mounted in a Hono app and with the user’s own authentication', () => {
  it('routes under app.route() and lets the user middleware decide', async () => {
    const dashboard = createDashboard({
      client,
      authenticate: async (c, next) => {
        if (c.req.header('x-user') !== 'ops') return c.text('who are you?', 401);
        await next();
      },
    });
    const app = new Hono();
    app.get('/', (c) => c.text('my app'));
    app.route('/ops/ergon', dashboard.app);
    const server = createServer(async (req, res) => {
      const { getRequestListener } = await import('@hono/node-server');
      await getRequestListener(app.fetch, { overrideGlobalObjects: false })(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/`)).text()).toBe('my app');
      expect((await fetch(`${base}/ops/ergon/api/flows`)).status).toBe(401);
      const list = await fetch(`${base}/ops/ergon/api/flows?limit=5`, { headers: { 'x-user': 'ops' } });
      expect(list.status).toBe(200);
      expect(((await list.json()) as FlowListPage).flows.length).toBeGreaterThan(0);
      // A strict Hono app routes `/ops/ergon` (no trailing slash); the page's <base> does the rest.
      const page = await fetch(`${base}/ops/ergon`, { headers: { 'x-user': 'ops' } });
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<base href="/ops/ergon/">');
      const asset = /href="(assets\/app\.css\?v=[0-9a-f]+)"/.exec(html)?.[1];
      expect((await fetch(`${base}/ops/ergon/${asset}`, { headers: { 'x-user': 'ops' } })).status).toBe(200);
    } finally {
      dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses to start without a token or an authenticate middleware', () => {
    expect(() => createDashboard({ client })).toThrow(/token or an authenticate/);
    expect(() => createDashboard({ client, token: 'short' })).toThrow(/at least 16/);
  });
});

describe('a flow that is not progressing', () => {
  it('shows its abandoned runs in a row and the last cause on its page data', async () => {
    const now = Date.now();
    await client.store.createFlow({
      id: 'http-stuck',
      type: 'no-worker-knows-it',
      queue: 'default',
      input: '["x"]',
      priority: 0,
      runAt: now,
      now,
    });
    const claim = (at: number) =>
      client.store.claim({
        workerId: 'short-lived',
        types: ['no-worker-knows-it'],
        queues: ['default'],
        limit: 1,
        leaseMs: 1,
        now: at,
      });
    await claim(now);
    await claim(now + 10); // takes over an expired lease: the first run was abandoned
    const detail = (await (await api(served, 'api/flow?id=http-stuck')).json()) as { abandonedRuns: number };
    expect(detail.abandonedRuns).toBe(1);
  });
});
