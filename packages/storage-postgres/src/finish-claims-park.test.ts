/**
 * A finish whose next claim parks its worker (`FinishRequest.next` with `park`): parked when it
 * takes fewer than its limit, so a later create is handed to it; the worker is marked parked
 * before the finish is sent, so a hand-off heard before the finish's reply carries its claim
 * (as `hand-off-race.test.ts` for a claim); and the finish and its claim are one round trip.
 */
import type { ClaimedFlow, NextClaim, StoreEvent } from '@ergon/core';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresExecutionLog } from './index.js';
import { dropSchema, outside, POSTGRES_URL, postgresAvailable, testSchema } from './test-support.js';

const schemas: string[] = [];
afterAll(async () => {
  for (const name of schemas) await dropSchema(name);
});

const T0 = Date.UTC(2030, 0, 1);
const next: NextClaim = {
  workerId: 'w1',
  types: ['t'],
  queues: ['q'],
  limit: 2,
  leaseMs: 30_000,
  park: true,
};
const newFlow = (id: string, now = T0) => ({
  id,
  type: 't',
  queue: 'q',
  input: '[]',
  priority: 0,
  runAt: now,
  now,
});

/**
 * A worker's store on a pool whose queries are counted by name, and whose replies to statements
 * named `hold` wait for `letGo`; a second store creates.
 */
async function stores(hold?: string) {
  const schema = testSchema('fpark');
  schemas.push(schema);
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 3 });
  const names: string[] = [];
  // Connections taken from the pool: one per statement on it, one per transaction.
  const taken = { n: 0 };
  pool.on('acquire', () => {
    taken.n++;
  });
  let letGo!: () => void;
  const held = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  const query = pool.query.bind(pool) as (config: unknown) => Promise<unknown>;
  (pool as unknown as { query: (config: unknown) => Promise<unknown> }).query = async (config) => {
    const name = (config as { name?: string } | undefined)?.name ?? String(config).slice(0, 20);
    names.push(name);
    const result = await query(config);
    if (hold !== undefined && name.includes(hold)) await held;
    return result;
  };
  const worker = await PostgresExecutionLog.open({ pool, schema });
  const creator = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema });
  await worker.createFlow(newFlow('a'));
  // A claim that does not park: only the finish's claim can mark the worker parked.
  const [a] = await worker.claim({ ...next, limit: 1, park: false, now: T0 });
  expect(a?.flow.id).toBe('a');
  const parked = async () =>
    (await outside(`select slots from "${schema}".parked where worker_id = 'w1'`)) as { slots: number }[];
  const close = async () => {
    letGo();
    await worker.close();
    await creator.close();
    await pool.end();
  };
  return { worker, creator, a: a as ClaimedFlow, names, taken, letGo, parked, close };
}

const finishA = (a: ClaimedFlow) => ({
  flowId: a.flow.id,
  token: a.token,
  status: 'completed' as const,
  now: T0 + 10,
  next,
});

// Skipped only without a PostgreSQL on a developer's machine; under CI=true requireService throws instead.
describe.skipIf(!postgresAvailable)('PostgresExecutionLog finish with a parking next claim', () => {
  it('parks the worker when nothing is ready, in one round trip, and a later create is handed to it', async () => {
    const s = await stores();
    try {
      const events: StoreEvent[] = [];
      const unsubscribe = s.worker.subscribe((event) => events.push(event));
      s.names.length = 0;
      s.taken.n = 0;
      expect((await s.worker.finishFlow(finishA(s.a)))?.claimed).toEqual([]);
      // The finish, its notify and its claim: one statement on the pool, no transaction.
      expect(s.names).toEqual([expect.stringMatching(/_batch_claim$/)]);
      expect(s.taken.n).toBe(1);
      expect(await s.parked()).toEqual([{ slots: 2 }]);
      expect(await s.worker.getFlow('a')).toMatchObject({ status: 'completed' });
      const { flow } = await s.creator.createFlow(newFlow('b', T0 + 20));
      expect(flow).toMatchObject({ status: 'running', leaseOwner: 'w1' });
      await expect
        .poll(() => events.find((e) => e.type === 'handed' && e.flowId === 'b'), { timeout: 5000 })
        .toMatchObject({ workerId: 'w1', claimed: { token: 1, flow: { id: 'b', leaseOwner: 'w1' } } });
      unsubscribe();
    } finally {
      await s.close();
    }
  });

  it('gives the worker its hand-off heard before the finish answers', async () => {
    const s = await stores('batch_claim');
    try {
      const events: StoreEvent[] = [];
      const unsubscribe = s.worker.subscribe((event) => events.push(event));
      const finishing = s.worker.finishFlow(finishA(s.a));
      // The finish and its parking claim have committed (the reply held back): w1 is parked.
      await expect.poll(s.parked, { timeout: 5000, interval: 10 }).toEqual([{ slots: 2 }]);
      const { flow } = await s.creator.createFlow(newFlow('b', T0 + 20));
      expect(flow.leaseOwner).toBe('w1');
      await expect
        .poll(() => events.find((e) => e.type === 'handed' && e.flowId === 'b'), { timeout: 5000 })
        .toMatchObject({ workerId: 'w1', claimed: { token: 1, flow: { leaseOwner: 'w1' } } });
      s.letGo();
      expect((await finishing)?.claimed).toEqual([]);
      unsubscribe();
    } finally {
      await s.close();
    }
  });

  it('unparks the worker when its finish claims what it asked for', async () => {
    const s = await stores();
    try {
      await s.creator.createFlow(newFlow('x'));
      await s.creator.createFlow(newFlow('y'));
      const result = await s.worker.finishFlow(finishA(s.a));
      expect(result?.claimed?.map((c) => c.flow.id).sort()).toEqual(['x', 'y']);
      expect(await s.parked()).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
