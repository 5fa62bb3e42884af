// The dashboard in a real headless Chromium (Debian's, from PATH) over a real
// SQLite store with a real worker: lists, filters, one flow's timeline and
// DAG, signal and cancel from the page, read-only mode, the token, and
// hostile strings that must stay text. Screenshots go to test-artifacts/.
import { defaultCodec, type ExecutionLog, NonRetryableError, RetryPolicy } from '@ergon/core';
import { Client, flow, step, type Worker } from '@ergon/executor';
import { graph } from '@ergon/graph';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  launchChromium,
  openPage,
  type Served,
  serve,
  shot,
  sqliteStore,
  startWorker,
} from './support.js';

const checks = graph<{ order: string }>('checks')
  .node('user', async (_d, i) => `user of ${i.order}`)
  .node('stock', async () => 3)
  .node('fraud', async () => 0.1)
  .node('decide', { deps: ['user', 'stock', 'fraud'] }, async (d) => d.stock > 0 && d.fraud < 0.5)
  .build();

// The first attempt of each order's charge fails, so the timeline shows a retry.
const attempts = new Map<string, number>();
const charge = step(
  'charge',
  async (input: { order: string }) => {
    const n = (attempts.get(input.order) ?? 0) + 1;
    attempts.set(input.order, n);
    if (n < 2) throw new Error('payment provider timed out');
    return 'charged';
  },
  { retry: new RetryPolicy({ maxAttempts: 3, initialDelay: '50ms' }) },
);
const approval = flow('ui-approval', async (ctx, input: { order: string }) => {
  await ctx.run('prepare', () => input.order);
  await ctx.step(charge, input);
  const verdict = await ctx.dag(checks, input);
  const approved = await ctx.waitForSignal<{ by: string }>('approve');
  return { order: input.order, ok: verdict.outputs.decide, by: approved.by };
});
const sleeper = flow('ui-sleeper', async (ctx) => {
  await ctx.sleep('1h');
});
const HOSTILE = `<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">`;
const failing = flow('ui-failing', async (ctx, input: { note: string }) => {
  await ctx.run('explode', () => {
    throw new NonRetryableError(`failed with ${input.note}`);
  });
});

// Reports progress from inside a long step, held by gates the test opens one by one.
const progressGates = Array.from({ length: 2 }, () => {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
});
const importer = flow('ui-progress', async (ctx) =>
  ctx.run('import', async () => {
    for (let i = 0; i < 2; i++) {
      await ctx.progress({ current: i, total: 2, phase: `${HOSTILE} ${i}` });
      await progressGates[i]?.opened;
    }
    await ctx.progress({ current: 2, total: 2, phase: 'done' });
    return 2;
  }),
);

let store: ExecutionLog;
let remove: () => Promise<void>;
let worker: Worker;
let client: Client;
let served: Served;
let readOnly: Served;
/** Served with a watch poll far longer than the tests: only store events update its pages in time. */
let eventsOnly: Served;
let browser: Browser | undefined;

// Under CI=true a missing Chromium fails here; elsewhere the suite is skipped loudly.
browser = await launchChromium();

beforeAll(async () => {
  ({ store, remove } = await sqliteStore());
  worker = startWorker(store, [approval, sleeper, failing, importer]);
  client = new Client({ store });
  served = await serve(store, { traceUrl: 'http://jaeger.local:16686/trace/{traceId}' });
  readOnly = await serve(store, { readOnly: true });
  eventsOnly = await serve(store, { pollMs: 60_000 });
  for (let i = 1; i <= 3; i++) await client.schedule(approval, { order: `o-${i}` }, { flowId: `order-${i}` });
  await client.schedule(sleeper, undefined, { flowId: 'nap-1' });
  await client.schedule(failing, { note: HOSTILE }, { flowId: 'bad-1' });
  await hostileFlow(store);
  await eventually(async () => {
    const waiting = await client.list({ status: 'suspended', limit: 50 });
    const failed = await client.list({ status: 'failed', limit: 50 });
    return waiting.flows.length >= 4 && failed.flows.length >= 2 ? true : undefined;
  }, 60_000);
});

afterAll(async () => {
  for (const gate of progressGates) gate.open();
  await browser?.close();
  await served?.close();
  await readOnly?.close();
  await eventsOnly?.close();
  await worker?.stop({ timeout: '2s' });
  await remove?.();
});

/**
 * A flow whose id and type carry markup, written straight to the store (the Client's
 * id and name checks refuse such strings; a store written by other tools may hold them),
 * then failed with a hostile error.
 */
async function hostileFlow(s: ExecutionLog): Promise<void> {
  const now = Date.now();
  const type = `t${HOSTILE}`;
  await s.createFlow({
    id: `x${HOSTILE}`,
    type,
    queue: 'default',
    input: defaultCodec.encode({ html: HOSTILE }),
    priority: 0,
    runAt: now,
    now,
  });
  const [claimed] = await s.claim({
    workerId: 'test',
    types: [type],
    queues: ['default'],
    limit: 1,
    leaseMs: 10_000,
    now,
  });
  if (!claimed) throw new Error('could not claim the hostile flow');
  await s.finishFlow({
    flowId: claimed.flow.id,
    token: claimed.token,
    status: 'failed',
    error: defaultCodec.encode(new Error(`boom ${HOSTILE}`)),
    now: Date.now(),
  });
}

const open = (base: Served, hash = '#/') => openPage(browser, base, hash);

describe.skipIf(!browser)('the dashboard in Chromium', () => {
  it('lists the flows a real run created, and filters narrow the list', async () => {
    const page = await open(served, '#/flows');
    await page.waitForSelector('#flows-body tr[data-id="order-1"]');
    const ids = await page.$$eval('#flows-body tr[data-id]', (rows) =>
      rows.map((r) => r.getAttribute('data-id')),
    );
    expect(ids).toEqual(expect.arrayContaining(['order-1', 'order-2', 'order-3', 'nap-1', 'bad-1']));
    await shot(page, 'flows-list');

    await page.selectOption('#filter-status', 'failed');
    await page.click('#filters button[type=submit]');
    // The filtered page starts empty: wait for its rows, not only for order-1 to go.
    await page.waitForFunction(
      () =>
        !document.querySelector('#flows-body tr[data-id="order-1"]') &&
        document.querySelectorAll('#flows-body tr[data-status="failed"]').length >= 2,
    );
    const failed = await page.$$eval('#flows-body tr[data-id]', (rows) =>
      rows.map((r) => r.getAttribute('data-status')),
    );
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(new Set(failed)).toEqual(new Set(['failed']));

    await page.goto(`${served.url}#/flows?type=ui-approval&id=order-`);
    await page.waitForFunction(() => document.querySelectorAll('#flows-body tr[data-id]').length === 3);
    await shot(page, 'flows-filtered');
    await page.context().close();
  });

  it('shows a flow’s timeline with its retried step and its DAG with node statuses', async () => {
    const page = await open(served, `#/flow?id=order-1`);
    await page.waitForSelector('#timeline');
    const rows = await page.$$eval('#timeline .gantt-row', (gs) => gs.map((g) => g.getAttribute('data-row')));
    expect(rows.length).toBeGreaterThanOrEqual(7); // the flow, prepare, charge, dag, 4 nodes
    const labels = await page.$$eval('#timeline .gantt-label', (ts) => ts.map((t) => t.textContent));
    expect(labels.join('\n')).toContain('charge#0');
    const nodes = await page.$$eval('svg.dag .dag-node', (gs) =>
      gs.map((g) => [g.getAttribute('data-node'), g.getAttribute('data-status')]),
    );
    expect(Object.fromEntries(nodes)).toEqual({
      user: 'completed',
      stock: 'completed',
      fraud: 'completed',
      decide: 'completed',
    });
    expect(await page.$$eval('svg.dag .edge', (es) => es.length)).toBe(3);
    expect(await page.textContent('#waits')).toContain('approve');
    await shot(page, 'flow-page');
    await page.context().close();
  });

  it('sends a signal from the page, which unblocks the waiting flow', async () => {
    const page = await open(served, `#/flow?id=order-2`);
    await page.waitForSelector('#signal-form');
    expect(await page.inputValue('#signal-name')).toBe('approve');
    await page.fill('#signal-payload', '{"by": ');
    expect(await page.isDisabled('#signal-send')).toBe(true);
    expect(await page.textContent('#signal-hint')).toContain('not JSON');
    await page.fill('#signal-payload', '{"by": "maria"}');
    await page.click('#signal-send');
    await page.waitForSelector('#action-status.ok');
    expect(await client.result('order-2', { timeout: '30s' })).toEqual({
      order: 'o-2',
      ok: true,
      by: 'maria',
    });
    // The page hears of the finish by the event stream, without a reload.
    await page.waitForSelector('#flow-id + .badge.status-completed');
    await shot(page, 'flow-after-signal');
    await page.context().close();
  });

  it('cancels a sleeping flow from the page', async () => {
    const page = await open(served, `#/flow?id=nap-1`);
    await page.waitForSelector('#cancel');
    await page.click('#cancel');
    await page.click('#cancel'); // confirm
    await page.waitForSelector('#action-status.ok');
    expect((await client.get('nap-1')).status).toBe('cancelled');
    await page.waitForSelector('#flow-id + .badge.status-cancelled');
    await page.context().close();
  });

  it('in read-only mode shows no actions and the API refuses them with 403', async () => {
    const page = await open(readOnly, `#/flow?id=order-3`);
    await page.waitForSelector('#actions-readonly');
    expect(await page.$('#signal-form')).toBeNull();
    expect(await page.textContent('#read-only')).toBe('read-only');
    const status = await page.evaluate(async () => {
      const session = (await (await fetch('api/session')).json()) as { csrf: string };
      const res = await fetch('api/actions/signal', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ergon-csrf': session.csrf },
        body: JSON.stringify({ id: 'order-3', name: 'approve', payload: { by: 'eve' } }),
      });
      return res.status;
    });
    expect(status).toBe(403);
    expect((await client.get('order-3')).status).toBe('suspended');
    await shot(page, 'read-only');
    await page.context().close();
  });

  it('answers 401 without the token', async () => {
    if (!browser) return;
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(`${served.url}#/flows`);
    expect(response?.status()).toBe(401);
    expect(await page.textContent('body')).toContain('needs its token');
    await context.close();
  });

  it('shows ids, types, payloads and errors with markup as text and executes nothing', async () => {
    const page = await open(served, '#/flows?status=failed');
    await page.waitForSelector('#flows-body tr[data-id^="x<script>"]');
    await shot(page, 'hostile-list');
    const row = await page.textContent('#flows-body tr[data-id^="x<script>"]');
    expect(row).toContain(`x${HOSTILE}`); // the id
    expect(row).toContain(`t${HOSTILE}`); // the type
    expect(row).toContain(`boom ${HOSTILE}`); // the error
    // Its own page: the Client refuses such an id, and the refusal quotes it, as text.
    await page.click('#flows-body tr[data-id^="x<script>"] a');
    await page.waitForSelector('.load-error');
    expect(await page.textContent('.load-error')).toContain('<script>');
    await page.goto(`${served.url}#/flow?id=bad-1`);
    await page.waitForSelector('#flow-error');
    expect(await page.textContent('#flow-error')).toContain(HOSTILE);
    await shot(page, 'hostile-flow');
    const state = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned,
      violations: (window as unknown as { __violations: string[] }).__violations,
      images: document.querySelectorAll('main img').length,
      scripts: [...document.scripts].map((s) => s.getAttribute('src')),
    }));
    expect(state.pwned).toBeUndefined();
    expect(state.violations).toEqual([]);
    expect(state.images).toBe(0);
    expect(state.scripts).toEqual([expect.stringMatching(/^assets\/app\.js\?v=/)]);
    await page.context().close();
  });

  it('updates a running flow’s progress on its page and in the list as it reports, without a reload', async () => {
    await client.schedule(importer, undefined, { flowId: 'prog-1' });
    const page = await open(eventsOnly, '#/flow?id=prog-1');
    await page.waitForFunction(() => document.querySelector('#progress-label')?.textContent === '0 / 2 (0%)');
    expect(await page.textContent('#flow-id + .badge')).toBe('running');
    expect(await page.getAttribute('#progress-bar', 'value')).toBe('0');
    // User data: the phase is shown as text, markup and all.
    expect(await page.textContent('#progress-value')).toContain(JSON.stringify(`${HOSTILE} 0`));
    await page.evaluate(() => {
      (window as unknown as { __loaded: string }).__loaded = 'once';
    });
    progressGates[0]?.open();
    await page.waitForFunction(
      () => document.querySelector('#progress-label')?.textContent === '1 / 2 (50%)',
    );
    expect(await page.getAttribute('#progress-bar', 'value')).toBe('0.5');
    expect(await page.textContent('#progress-value')).toContain(JSON.stringify(`${HOSTILE} 1`));
    await shot(page, 'flow-progress');

    await page.goto(`${eventsOnly.url}#/flows?type=ui-progress`);
    await page.waitForSelector('#flows-body tr[data-id="prog-1"] td.progress progress');
    expect(await page.textContent('#flows-body tr[data-id="prog-1"] td.progress')).toBe('1 / 2 (50%)');
    progressGates[1]?.open();
    await page.waitForFunction(
      () =>
        document.querySelector('#flows-body tr[data-id="prog-1"] td.progress')?.textContent ===
        '2 / 2 (100%)',
    );
    const state = await page.evaluate(() => ({
      loaded: (window as unknown as { __loaded?: string }).__loaded,
      pwned: (window as unknown as { __pwned?: number }).__pwned,
      violations: (window as unknown as { __violations: string[] }).__violations,
    }));
    expect(state).toEqual({ loaded: 'once', pwned: undefined, violations: [] });
    expect(await client.result('prog-1', { timeout: '30s' })).toBe(2);
    await page.context().close();
  });

  it('shows the overview with counts, the chart and workers', async () => {
    const page = await open(served, '#/');
    await page.waitForSelector('#status-counts .count[data-status="failed"]');
    expect(await page.textContent('#status-counts .count[data-status="failed"] .number')).toMatch(/^[2-9]/);
    await page.waitForSelector('#per-minute canvas');
    await shot(page, 'overview');
    await page.context().close();
  });
});
