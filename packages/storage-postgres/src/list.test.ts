import { type FlowStatus, runtimeStore } from '@ergon/core';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresExecutionLog } from './index.js';
import { dropSchema, POSTGRES_URL, postgresAvailable, testSchema } from './test-support.js';

const schemas: string[] = [];
afterAll(async () => {
  for (const name of schemas) await dropSchema(name);
});

const T0 = Date.UTC(2030, 0, 1);

// Skipped only without a PostgreSQL on a developer's machine; under CI=true requireService throws instead.
describe.skipIf(!postgresAvailable)(
  'listFlows over running and other flows (flows_listed, flows_lease)',
  () => {
    it('merges running flows into the newest-first order, page after page, under every status filter', async () => {
      const schema = testSchema('list');
      schemas.push(schema);
      const raw = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema });
      const store = runtimeStore(raw);
      try {
        // 30 flows; every third created at the same time as the one before (ties ordered by id).
        const ids: string[] = [];
        for (let i = 0; i < 30; i++) {
          const id = `f${String(i).padStart(2, '0')}`;
          ids.push(id);
          const now = T0 + i - (i % 3 === 2 ? 1 : 0);
          await store.createFlow({ id, type: 't', queue: 'q', input: '[]', priority: 0, runAt: now, now });
        }
        // Claim 12 (running), then finish 4 of them.
        const claimed = await store.claim({
          workerId: 'w',
          types: ['t'],
          queues: ['q'],
          limit: 12,
          leaseMs: 60_000,
          now: T0 + 100,
        });
        expect(claimed).toHaveLength(12);
        const finished = claimed.slice(0, 4);
        const outcomes = await raw.applyWrites(
          finished.map(({ flow, token }) => ({
            op: 'finish' as const,
            request: { flowId: flow.id, token, status: 'completed' as const, now: T0 + 101 },
          })),
        );
        expect(outcomes.every((o) => o.ok)).toBe(true);
        const status = new Map<string, FlowStatus>(ids.map((id) => [id, 'pending']));
        for (const { flow } of claimed) status.set(flow.id, 'running');
        for (const { flow } of finished) status.set(flow.id, 'completed');
        const created = new Map(ids.map((id, i) => [id, T0 + i - (i % 3 === 2 ? 1 : 0)]));
        const newestFirst = [...ids].sort(
          (a, b) => (created.get(b) ?? 0) - (created.get(a) ?? 0) || (a < b ? 1 : a > b ? -1 : 0),
        );
        const filters: (FlowStatus[] | undefined)[] = [
          undefined,
          ['running'],
          ['pending'],
          ['completed'],
          ['pending', 'running'],
          ['running', 'completed'],
          ['pending', 'completed'],
        ];
        for (const statuses of filters) {
          const expected = newestFirst.filter(
            (id) => !statuses || statuses.includes(status.get(id) as FlowStatus),
          );
          for (const limit of [1, 4, 7, 100]) {
            const seen: string[] = [];
            let cursor: string | undefined;
            let pages = 0;
            do {
              const page = await store.listFlows({
                ...(statuses ? { status: statuses } : {}),
                limit,
                cursor,
              });
              seen.push(...page.flows.map((f) => f.id));
              for (const flow of page.flows) expect(flow.status).toBe(status.get(flow.id));
              cursor = page.nextCursor;
              pages++;
            } while (cursor && pages < 100);
            expect({ statuses, limit, seen }).toEqual({ statuses, limit, seen: expected });
          }
        }
      } finally {
        await store.close();
      }
    });
  },
);
