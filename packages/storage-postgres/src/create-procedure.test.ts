import type { StoreEvent } from '@ergon/core';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresExecutionLog } from './index.js';
import { dropSchema, POSTGRES_URL, postgresAvailable, testSchema } from './test-support.js';

const schemas: string[] = [];
afterAll(async () => {
  for (const name of schemas) await dropSchema(name);
});

const T0 = Date.UTC(2030, 0, 1);

// Skipped only without a PostgreSQL on a developer's machine; under CI=true requireService throws instead.
describe.skipIf(!postgresAvailable)('an idle create (procedure ergon_create)', () => {
  it('hands the flow to a parked worker and leaves its connection committing durably', async () => {
    const schema = testSchema('proc');
    schemas.push(schema);
    // Two connections: one the store holds for LISTEN, so every call runs on the other.
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    const store = await PostgresExecutionLog.open({ pool, schema });
    try {
      const events: StoreEvent[] = [];
      const unsubscribe = store.subscribe((event) => events.push(event));
      const claim = { workerId: 'w1', types: ['t'], queues: ['q'], limit: 4, leaseMs: 30_000, park: true };
      expect(await store.claim({ ...claim, now: T0 })).toEqual([]);
      const created = await store.createFlow({
        id: 'f1',
        type: 't',
        queue: 'q',
        input: '[1]',
        priority: 0,
        runAt: T0,
        now: T0,
      });
      expect(created).toMatchObject({ created: true, flow: { status: 'running', leaseOwner: 'w1' } });
      await expect
        .poll(() => events.find((e) => e.type === 'handed'))
        .toMatchObject({
          flowId: 'f1',
          workerId: 'w1',
          claimed: { token: 1, flow: { id: 'f1', input: '[1]' } },
        });
      unsubscribe();
      // The procedure commits its first transaction without waiting for the flush; the setting
      // must end with that transaction, not stay on the pooled connection.
      const { rows } = await pool.query<{ synchronous_commit: string }>('show synchronous_commit');
      expect(rows[0]?.synchronous_commit).toBe('on');
      // Created again: the stored flow, not a second one.
      expect(
        await store.createFlow({
          id: 'f1',
          type: 't',
          queue: 'q',
          input: '[2]',
          priority: 0,
          runAt: T0,
          now: T0,
        }),
      ).toMatchObject({ created: false, flow: { input: '[1]', status: 'running' } });
    } finally {
      await store.close();
      await pool.end();
    }
  });
});
