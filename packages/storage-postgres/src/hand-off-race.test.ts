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

// A create may hand a flow to a worker as soon as the claim that parks it commits: the `handed`
// NOTIFY can reach the worker's store before that claim's reply does. The store must still give
// the worker its claim then, or the flow waits out the hand-off lease with nobody running it.
// Skipped only without a PostgreSQL on a developer's machine; under CI=true requireService throws instead.
describe.skipIf(!postgresAvailable)(
  'a hand-off heard before the claim that parked the worker answers',
  () => {
    it('carries its claim to the worker', async () => {
      const schema = testSchema('race');
      schemas.push(schema);
      const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 3 });
      // The claim's reply is held back until the test lets it go.
      let letGo!: () => void;
      const held = new Promise<void>((resolve) => {
        letGo = resolve;
      });
      const query = pool.query.bind(pool) as (config: unknown) => Promise<unknown>;
      (pool as unknown as { query: (config: unknown) => Promise<unknown> }).query = async (config) => {
        const result = await query(config);
        const name = (config as { name?: string } | undefined)?.name ?? '';
        if (name.includes('claim_park')) await held;
        return result;
      };
      const worker = await PostgresExecutionLog.open({ pool, schema });
      const creator = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema });
      try {
        const events: StoreEvent[] = [];
        const unsubscribe = worker.subscribe((event) => events.push(event));
        const claim = { workerId: 'w1', types: ['t'], queues: ['q'], limit: 4, leaseMs: 30_000, park: true };
        const parking = worker.claim({ ...claim, now: T0 });
        // The parking claim has committed (its reply held back): w1 is parked.
        await expect
          .poll(
            async () =>
              (await pool.query(`select 1 from "${schema}".parked where worker_id = 'w1'`)).rowCount,
            { timeout: 5000, interval: 10 },
          )
          .toBe(1);
        const { flow } = await creator.createFlow({
          id: 'f1',
          type: 't',
          queue: 'q',
          input: '[1]',
          priority: 0,
          runAt: T0,
          now: T0,
        });
        expect(flow.leaseOwner).toBe('w1');
        const handed = await expect
          .poll(() => events.find((e) => e.type === 'handed'), { timeout: 5000 })
          .toBeDefined()
          .then(() => events.find((e) => e.type === 'handed'));
        expect(handed).toMatchObject({ workerId: 'w1', claimed: { token: 1, flow: { leaseOwner: 'w1' } } });
        letGo();
        expect(await parking).toEqual([]);
        unsubscribe();
      } finally {
        letGo();
        await worker.close();
        await creator.close();
        await pool.end();
      }
    });
  },
);
