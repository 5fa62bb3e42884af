// A flow's progress through the dashboard's API, without a browser: the flow's
// page data and its list row carry it, and a progress report reaches an open
// event stream as a change naming the flow (lists untouched), from the store's
// event, long before the page's watch poll would.
import type { ExecutionLog } from '@ergon/core';
import { Client, flow, type Worker } from '@ergon/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeMessage, FlowDetail, FlowListPage } from '../src/index.js';
import { eventually, type Served, serve, sqliteStore, startWorker, TOKEN } from './support.js';

/** Gates the flow's step waits on, one per report after the first. */
const gates = Array.from({ length: 3 }, () => {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
});
const importer = flow('http-import', async (ctx) => {
  return ctx.run('import', async () => {
    for (let i = 0; i < 3; i++) {
      await ctx.progress({ current: i, total: 3, phase: `batch ${i}` });
      await gates[i]?.promise;
    }
    await ctx.progress({ current: 3, total: 3, phase: 'done' });
    return 3;
  });
});
const phases = flow('http-phases', async (ctx) => {
  await ctx.progress('copying files');
  await ctx.waitForSignal('go');
});

let store: ExecutionLog;
let remove: () => Promise<void>;
let worker: Worker;
let client: Client;
let served: Served;
const bearer = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  ({ store, remove } = await sqliteStore());
  worker = startWorker(store, [importer, phases]);
  client = new Client({ store });
  // A watch poll far longer than the tests: only store events can tell the page in time.
  served = await serve(store, { pollMs: 60_000 });
});

afterAll(async () => {
  for (const gate of gates) gate.resolve();
  await served?.close();
  await worker?.stop({ timeout: '2s' });
  await remove?.();
});

const api = async <T>(path: string): Promise<T> =>
  (await fetch(new URL(path, served.url), { headers: bearer })).json() as Promise<T>;

/** The `change` messages of an open event stream, as they arrive. */
async function openStream(flowId: string): Promise<{ changes: ChangeMessage[]; close: () => void }> {
  const controller = new AbortController();
  const response = await fetch(new URL(`api/events?flow=${encodeURIComponent(flowId)}`, served.url), {
    headers: bearer,
    signal: controller.signal,
  });
  const changes: ChangeMessage[] = [];
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  void (async () => {
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (/^event: change$/m.test(block) && data) changes.push(JSON.parse(data) as ChangeMessage);
      }
    }
  })();
  return { changes, close: () => controller.abort() };
}

describe('progress in the dashboard API', () => {
  it('shows a running flow’s progress as a value and a bar, and each report reaches the open stream', async () => {
    await client.schedule(importer, undefined, { flowId: 'imp-1' });
    const first = await eventually(async () => {
      const detail = await api<FlowDetail>('api/flow?id=imp-1');
      return detail.progressBar ? detail : undefined;
    });
    expect(first.status).toBe('running');
    expect(first.progressBar).toEqual({ fraction: 0, label: '0 / 3 (0%)' });
    expect(JSON.parse(first.progressValue?.text ?? '')).toEqual({ current: 0, total: 3, phase: 'batch 0' });
    expect(first.progressAt).toBeGreaterThan(0);

    const stream = await openStream('imp-1');
    try {
      // Past the coalescing window of the flow's start (a `ready` event, which refreshes lists too).
      await new Promise((resolve) => setTimeout(resolve, 600));
      gates[0]?.resolve();
      await eventually(
        async () => (stream.changes.some((c) => c.progress.includes('imp-1') && !c.lists) ? true : undefined),
        10_000,
      );
      const second = await api<FlowDetail>('api/flow?id=imp-1');
      expect(second.progressBar?.label).toBe('1 / 3 (33%)');
      const rows = await api<FlowListPage>('api/flows?type=http-import');
      expect(rows.flows[0]?.progress).toEqual({ text: '1 / 3 (33%)', fraction: 1 / 3 });
    } finally {
      stream.close();
    }
    gates[1]?.resolve();
    gates[2]?.resolve();
    expect(await client.result('imp-1', { timeout: '30s' })).toBe(3);
    const done = await api<FlowDetail>('api/flow?id=imp-1');
    expect(done.progressBar).toEqual({ fraction: 1, label: '3 / 3 (100%)' });
  });

  it('shows a value that is not a fraction as text, without a bar', async () => {
    await client.schedule(phases, undefined, { flowId: 'ph-1' });
    const detail = await eventually(async () => {
      const d = await api<FlowDetail>('api/flow?id=ph-1');
      return d.status === 'suspended' ? d : undefined;
    });
    expect(detail.progressValue?.text).toBe('"copying files"');
    expect(detail.progressBar).toBeUndefined();
    expect(detail.progress).toEqual({ text: 'copying files' });
    await client.cancel('ph-1');
  });
});
