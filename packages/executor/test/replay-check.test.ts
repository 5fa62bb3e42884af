import { type FlowRecord, systemClock } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { type FlowExport, parseExport, readFlows, replayCheck, toExportLine } from '../src/index.js';
import { bodiesRun, touched, v1, v2 } from './replay-check-flows.js';
import { STORE_KIND } from './stores.js';
import { harness, until } from './support.js';

// The acceptance runs 1,000 recorded histories on SQLite and Redis; the other stores check fewer.
const COUNT = STORE_KIND === 'sqlite' || STORE_KIND === 'redis' ? 1000 : 150;

/** The state order `n` ends in: completed, or suspended on its hour-long sleep or its signal. */
function settledAs(n: number): string {
  if (n % 7 === 0) return 'suspended:timer';
  if (n % 11 === 0) return 'suspended:signal';
  return 'completed';
}

function stateOf(flow: FlowRecord): string {
  return flow.status === 'suspended' ? `suspended:${flow.waits.map((w) => w.kind).join(',')}` : flow.status;
}

async function snapshot(h: ReturnType<typeof harness>): Promise<FlowExport[]> {
  const out: FlowExport[] = [];
  for await (const entry of readFlows(h.store)) out.push(entry);
  return out.sort((a, b) => a.flow.id.localeCompare(b.flow.id));
}

describe('replayCheck', () => {
  const h = harness();

  async function record(): Promise<void> {
    const ids: string[] = [];
    for (let n = 0; n < COUNT; n++) {
      ids.push((await h.client.schedule('orders', n, { flowId: `order-${String(n).padStart(4, '0')}` })).id);
    }
    h.startWorker(v1, { concurrency: 64 });
    // Settled means every order in the state its code ends in, not merely nothing pending or
    // running at one instant: an order suspended on its child looks settled too, and runs
    // again once the child completes (on PostgreSQL a snapshot taken then saw it running).
    const expected = ids.map((_, n) => settledAs(n));
    await until(
      async () => {
        const flows = await Promise.all(ids.map((id) => h.store.getFlow(id)));
        return flows.every((f, n) => f !== undefined && stateOf(f) === expected[n]);
      },
      240_000,
      'every order to complete, or to suspend on its sleep or its signal',
    );
    await until(
      async () => (await h.client.list({ status: ['pending', 'running'], limit: 1 })).flows.length === 0,
      30_000,
      'the children to finish',
    );
  }

  it(`passes ${COUNT} recorded histories on the same code and reports exactly the flows a reordering touches`, async () => {
    await record();
    // Every flow has settled (timers are an hour away, signals never sent): the store holds still,
    // and what follows must not change it.
    const before = await snapshot(h);
    expect(before.filter((e) => e.flow.type === 'orders')).toHaveLength(COUNT);
    const ran = bodiesRun();
    expect(ran).toBeGreaterThan(COUNT);

    const same = await replayCheck({ store: h.store, flows: v1 });
    expect(same.problems).toEqual([]);
    expect(same.passed).toBe(true);
    expect(same.checked).toBe(before.length);
    // Flows that suspended stopped at their pending operation, unrun.
    const waiting = same.flows.filter((f) => f.status === 'ok' && f.stoppedAt.length > 0);
    expect(waiting.length).toBeGreaterThan(0);

    const changed = await replayCheck({ store: h.store, flows: v2, type: 'orders' });
    expect(changed.checked).toBe(COUNT);
    expect(changed.passed).toBe(false);
    const expected = before
      .filter((e) => e.flow.type === 'orders' && touched(Number(e.flow.id.slice('order-'.length))))
      .map((e) => e.flow.id);
    expect(changed.problems.map((p) => p.flowId).sort()).toEqual(expected);
    for (const problem of changed.problems) {
      expect(problem).toMatchObject({
        status: 'diverged',
        position: 1,
        recordedKey: 'reserve#0',
        calledKey: 'charge#0',
      });
      if (problem.status === 'diverged') expect(problem.location).toMatch(/replay-check-flows\.ts:\d+/);
    }

    // No step body ran, and the store is as it was.
    expect(bodiesRun()).toBe(ran);
    expect(await snapshot(h)).toEqual(before);
  }, 300_000);

  it('checks histories from an export file the same way, with type, since and limit filters', async () => {
    const ordersOnly = v1.filter((f) => f.name === 'orders');
    for (let n = 0; n < 6; n++) await h.client.schedule('orders', n, { flowId: `file-${n}` });
    h.startWorker(v1);
    await until(
      async () => (await h.client.list({ status: ['pending', 'running'], limit: 1 })).flows.length === 0,
      30_000,
      'flows to settle',
    );
    const text = (await snapshot(h)).map(toExportLine).join('\n');
    const entries = parseExport(text, 'flows.jsonl');
    const ran = bodiesRun();
    const report = await replayCheck({ histories: entries, flows: v2, type: 'orders' });
    expect(report.checked).toBe(6);
    expect(report.problems.map((p) => p.flowId).sort()).toEqual(['file-0', 'file-3']);
    const limited = await replayCheck({ histories: entries, flows: v2, type: 'orders', limit: 2 });
    expect(limited.checked).toBe(2);
    const future = await replayCheck({ histories: entries, flows: v2, since: systemClock.now() + 60_000 });
    expect(future.checked).toBe(0);
    // A history whose type the code does not define is a problem, not a pass.
    const unknown = await replayCheck({ histories: entries, flows: ordersOnly, type: 'ship-child' });
    expect(unknown.problems.every((p) => p.status === 'unknown-type')).toBe(true);
    expect(unknown.passed).toBe(unknown.checked === 0);
    expect(bodiesRun()).toBe(ran);
  });
});
