/**
 * The dashboard's flows list over a large store: 100,000 flows in a SQLite
 * file (three types, two queues; 5,000 failed, 1,000 suspended, the rest
 * pending), then `GET api/flows` through the dashboard's own handler, timed
 * on the server side (the page's `ms`, store query and JSON included) for
 * the kinds of page a person asks for: the newest, one 20 pages deep, one
 * type, one status, a status nothing has (a scan of every flow), and an id
 * prefix. The figure is the slowest kind's median; DESIGN's target for the
 * page is under 300 ms.
 *
 * @module
 */
import { defaultCodec, type ExecutionLog } from '@ergon/core';
import { createDashboard } from '@ergon/dashboard';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import type { Bench } from '../lib/bench.js';
import { median } from '../lib/clock.js';
import { makeRow } from '../lib/results.js';
import { tempDir } from '../lib/services.js';

const TOKEN = 'bench-dashboard-token-0123456789';
const TYPES = ['process-order', 'ship-order', 'refund'];
const TRIALS = 7;

async function fill(store: ExecutionLog, flows: number): Promise<void> {
  const input = defaultCodec.encode({ order: 'o', amount: 42, items: [{ sku: 'x', qty: 1 }] });
  const start = Date.now() - flows * 10;
  const batch = 500;
  for (let i = 0; i < flows; i += batch) {
    const writes: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(flows, i + batch); j++) {
      const now = start + j * 10;
      writes.push(
        store.createFlow({
          id: `order-${String(j).padStart(6, '0')}`,
          type: TYPES[j % TYPES.length] as string,
          queue: j % 2 === 0 ? 'default' : 'priority',
          input,
          priority: 0,
          runAt: now,
          now,
        }),
      );
    }
    await Promise.all(writes);
  }
  // Claims take the oldest first: those fail or suspend, the rest stay pending.
  const failed = Math.round(flows * 0.05);
  const suspended = Math.round(flows * 0.01);
  const error = defaultCodec.encode(new Error('card declined'));
  for (let done = 0; done < failed + suspended; ) {
    const claimed = await store.claim({
      workerId: 'bench',
      types: TYPES,
      queues: ['default', 'priority'],
      limit: Math.min(500, failed + suspended - done),
      leaseMs: 60_000,
      now: Date.now(),
    });
    if (claimed.length === 0) break;
    await Promise.all(
      claimed.map(({ flow, token }, k) =>
        done + k < failed
          ? store.finishFlow({ flowId: flow.id, token, status: 'failed', error, now: Date.now() })
          : store.suspend({
              flowId: flow.id,
              token,
              waits: [{ kind: 'signal', name: 'approve', position: 0 }],
              now: Date.now(),
            }),
      ),
    );
    done += claimed.length;
  }
}

export const dashboardList: Bench = {
  id: 'dashboard-list-100k',
  rows: [{ name: 'dashboard-list-100k', unit: 'ms', better: 'lower' }],
  run: async (context) => {
    const flows = context.mode === 'smoke' ? 2000 : 100_000;
    const tmp = tempDir();
    const store = await SqliteExecutionLog.open({ path: `${tmp.dir}/dashboard.db` });
    try {
      const t0 = performance.now();
      await fill(store, flows);
      context.log(
        `  filled ${flows.toLocaleString()} flows in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      const dashboard = createDashboard({ client: new Client({ store }), token: TOKEN });
      const page = async (query: string) => {
        const res = await dashboard.fetch(
          new Request(`http://bench/api/flows?${query}`, { headers: { authorization: `Bearer ${TOKEN}` } }),
        );
        if (res.status !== 200)
          throw new Error(`api/flows?${query} answered ${res.status}: ${await res.text()}`);
        return (await res.json()) as { ms: number; nextCursor?: string; flows: unknown[] };
      };
      // A cursor 20 pages deep, found once.
      let deep = '';
      for (let i = 0; i < 20; i++) deep = (await page(deep ? `cursor=${deep}` : '')).nextCursor ?? deep;
      const kinds: Record<string, string> = {
        newest: '',
        deep: `cursor=${deep}`,
        type: 'type=ship-order',
        failed: 'status=failed',
        nothingRunning: 'status=running',
        idPrefix: 'id=order-0001',
      };
      const medians: Record<string, number> = {};
      for (const [kind, query] of Object.entries(kinds)) {
        const times: number[] = [];
        for (let i = 0; i < TRIALS; i++) times.push((await page(query)).ms);
        medians[kind] = Math.round(median(times) * 10) / 10;
      }
      const t1 = performance.now();
      const overview = await dashboard.fetch(
        new Request('http://bench/api/overview', { headers: { authorization: `Bearer ${TOKEN}` } }),
      );
      const overviewMs = Math.round(performance.now() - t1);
      if (overview.status !== 200) throw new Error(`api/overview answered ${overview.status}`);
      dashboard.close();
      const worst = Math.max(...Object.values(medians));
      context.log(
        `  page medians (ms): ${Object.entries(medians)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}; overview ${overviewMs} ms`,
      );
      return [
        makeRow('dashboard-list-100k', {
          unit: 'ms',
          better: 'lower',
          ergon: worst,
          extra: { size: flows, store: 'sqlite', pageSize: 50, trials: TRIALS, medians, overviewMs },
        }),
      ];
    } finally {
      await store.close();
      tmp.remove();
    }
  },
};
