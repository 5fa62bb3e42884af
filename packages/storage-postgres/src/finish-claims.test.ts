/**
 * A finish that claims its worker's next flows (`FinishRequest.next`, `internal/batch-next.ts`):
 * after the finish, as a claim would (flow control included), never after a refused finish; in a
 * batch, the finishes' claims merged and shared out, never more than their limits.
 */
import type { BatchOutcome, ClaimedFlow, FinishRequest, FinishResult, NextClaim } from '@ergon/core';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresExecutionLog } from './index.js';
import { dropSchema, outside, POSTGRES_URL, postgresAvailable, testSchema } from './test-support.js';

const schemas: string[] = [];
afterAll(async () => {
  for (const name of schemas) await dropSchema(name);
});

const T0 = Date.UTC(2030, 0, 1);

const next = (limit: number, extra: Partial<NextClaim> = {}): NextClaim => ({
  workerId: 'w1',
  types: ['t'],
  queues: ['q'],
  limit,
  leaseMs: 30_000,
  ...extra,
});

const finish = (c: ClaimedFlow, extra: Partial<FinishRequest> = {}): FinishRequest => ({
  flowId: c.flow.id,
  token: c.token,
  status: 'completed',
  result: '"done"',
  now: T0 + 10,
  ...extra,
});

const newFlow = (id: string, extra = {}) => ({
  id,
  type: 't',
  queue: 'q',
  input: '[]',
  priority: 0,
  runAt: T0,
  now: T0,
  ...extra,
});

const claimedOf = (outcome: BatchOutcome | undefined) =>
  outcome?.ok ? ((outcome.value as FinishResult | undefined)?.claimed ?? []) : [];

/** Runs `test` with a store on a fresh schema, dropped after the file. */
async function withStore(test: (store: PostgresExecutionLog) => Promise<void>): Promise<void> {
  const schema = testSchema('fnext');
  schemas.push(schema);
  const store = await PostgresExecutionLog.open({ url: POSTGRES_URL, schema });
  try {
    await test(store);
  } finally {
    await store.close();
  }
}

/** Creates `running` (claimed by w1, in order), then `ready` flows. */
async function holding(store: PostgresExecutionLog, running: string[], ready: string[], extra = {}) {
  for (const id of running) await store.createFlow(newFlow(id, extra));
  const held = await store.claim({ ...next(running.length), now: T0 });
  expect(held.map((c) => c.flow.id)).toEqual(running);
  for (const id of ready) await store.createFlow(newFlow(id, extra));
  return held;
}

// Skipped only without a PostgreSQL on a developer's machine; under CI=true requireService throws instead.
describe.skipIf(!postgresAvailable)('PostgresExecutionLog finish with next', () => {
  it('finishes, then claims the next ready flow with the token and lease a claim gives', () =>
    withStore(async (store) => {
      expect(store.capabilities.finishClaims).toBe(true);
      const [a] = await holding(store, ['a'], ['b', 'c']);
      const result = await store.finishFlow(finish(a as ClaimedFlow, { next: next(1) }));
      expect(result?.claimed?.map((c) => c.flow.id)).toEqual(['b']);
      const [b] = result?.claimed ?? [];
      expect(b?.token).toBe(1);
      expect(b?.flow).toMatchObject({
        status: 'running',
        leaseOwner: 'w1',
        leaseExpiresAt: T0 + 10 + 30_000,
      });
      expect(await store.getFlow('b')).toMatchObject({
        status: 'running',
        fencingToken: 1,
        leaseOwner: 'w1',
      });
      expect(await store.getFlow('a')).toMatchObject({ status: 'completed', result: '"done"' });
      expect(await store.getFlow('c')).toMatchObject({ status: 'pending' });
      await store.finishFlow(finish(b as ClaimedFlow));
      expect(await store.getFlow('b')).toMatchObject({ status: 'completed' });
    }));

  it('claims nothing when the finish is refused: the ready flow stays ready, the worker unparked', () =>
    withStore(async (store) => {
      const [a] = await holding(store, ['a'], ['b']);
      const stale = finish(a as ClaimedFlow, { token: 99, next: next(1, { park: true }) });
      await expect(store.finishFlow(stale)).rejects.toMatchObject({ code: 'LEASE_LOST' });
      const [outcome] = await store.applyWrites([{ op: 'finish', request: stale }]);
      expect(outcome?.ok).toBe(false);
      expect(await store.getFlow('b')).toMatchObject({ status: 'pending', fencingToken: 0 });
      expect(await store.getFlow('a')).toMatchObject({ status: 'running' });
      expect(await outside(`select 1 from "${store.schema}".parked where worker_id = 'w1'`)).toEqual([]);
    }));

  it('claims within the queue’s concurrency limit, the slot its finish freed included', () =>
    withStore(async (store) => {
      await store.configureQueue({ queue: 'q', limits: { concurrency: 1 }, now: T0 });
      const [a] = await holding(store, ['a'], ['b', 'c']);
      const result = await store.finishFlow(finish(a as ClaimedFlow, { next: next(3) }));
      expect(result?.claimed?.map((c) => c.flow.id)).toEqual(['b']);
      expect(await store.getFlow('c')).toMatchObject({ status: 'pending' });
    }));

  it('claims one flow per key where keys run one at a time', () =>
    withStore(async (store) => {
      await store.configureQueue({ queue: 'q', limits: { keyConcurrency: 1 }, now: T0 });
      for (const [id, key] of [
        ['a1', 'a'],
        ['a2', 'a'],
        ['b1', 'b'],
        ['b2', 'b'],
      ] as const)
        await store.createFlow(newFlow(id, { concurrencyKey: key }));
      const [a1] = await store.claim({ ...next(1), now: T0 });
      expect(a1?.flow.id).toBe('a1');
      const result = await store.finishFlow(finish(a1 as ClaimedFlow, { next: next(4) }));
      expect(result?.claimed?.map((c) => c.flow.concurrencyKey).sort()).toEqual(['a', 'b']);
    }));

  it('merges a batch’s next claims: never more than the summed limits, nor one flow twice', () =>
    withStore(async (store) => {
      const held = await holding(store, ['r1', 'r2', 'r3', 'r4'], ['f1', 'f2', 'f3', 'f4', 'f5']);
      const [r1, r2, r3, r4] = held as [ClaimedFlow, ClaimedFlow, ClaimedFlow, ClaimedFlow];
      const outcomes = await store.applyWrites([
        { op: 'finish', request: finish(r1, { next: next(2) }) },
        { op: 'finish', request: finish(r2, { token: 99, next: next(3) }) },
        { op: 'finish', request: finish(r3) },
        { op: 'finish', request: finish(r4, { next: next(1) }) },
      ]);
      expect(outcomes.map((o) => o.ok)).toEqual([true, false, true, true]);
      // The refused finish claims nothing, so the limits are 2 + 1.
      expect(claimedOf(outcomes[0]).map((c) => c.flow.id)).toEqual(['f1', 'f2']);
      expect(outcomes[2]).toEqual({ ok: true, value: undefined });
      expect(claimedOf(outcomes[3]).map((c) => c.flow.id)).toEqual(['f3']);
      for (const id of ['f4', 'f5']) expect((await store.getFlow(id))?.status).toBe('pending');
    }));

  it('shares what there is in batch order; another worker’s claim is its own, after the writes', () =>
    withStore(async (store) => {
      const held = await holding(store, ['r1', 'r2', 'r3'], ['f1']);
      const [r1, r2, r3] = held as [ClaimedFlow, ClaimedFlow, ClaimedFlow];
      const outcomes = await store.applyWrites([
        { op: 'finish', request: finish(r1, { next: next(1) }) },
        { op: 'finish', request: finish(r2, { next: next(1) }) },
        { op: 'finish', request: finish(r3, { next: next(1, { workerId: 'w2' }) }) },
      ]);
      expect(outcomes.map((o) => claimedOf(o).map((c) => c.flow.id))).toEqual([['f1'], [], []]);
      for (const id of ['r1', 'r2', 'r3']) expect((await store.getFlow(id))?.status).toBe('completed');
    }));

  it('claims the parent its child’s finish woke (the finish’s single path, then the claim)', () =>
    withStore(async (store) => {
      await store.createFlow(newFlow('parent'));
      const [parent] = await store.claim({ ...next(1), now: T0 });
      await store.createFlow(newFlow('child', { parentId: 'parent' }));
      const suspended = await store.suspend({
        flowId: 'parent',
        token: (parent as ClaimedFlow).token,
        now: T0,
        waits: [{ kind: 'child', flowId: 'child', position: 0 }],
      });
      expect(suspended.outcome).toBe('suspended');
      const [child] = await store.claim({ ...next(1), now: T0 });
      expect(child?.flow.id).toBe('child');
      const result = await store.finishFlow(finish(child as ClaimedFlow, { next: next(1) }));
      expect(result?.claimed?.map((c) => c.flow.id)).toEqual(['parent']);
    }));

  it('leaves the finish durable when its claim takes nothing (synchronous_commit put back)', () =>
    withStore(async (store) => {
      const [a] = await holding(store, ['a'], []);
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query('begin');
        const finishes = JSON.stringify([
          { f: 'a', t: (a as ClaimedFlow).token, s: 'completed', m: T0, h: 0 },
        ]);
        const { rows } = await client.query(
          `select * from "${store.schema}".ergon_batch_claim('[]', 0, $1, 1, null, null, 'w1', '{q}', '{t}',
             $2, 1, $3, false, 1000)`,
          [finishes, T0, T0 + 1000],
        );
        expect(rows).toEqual([{ o_op: null, o_n: null, o_controlled: '[]', o_flows: '[]' }]);
        expect((await client.query('show synchronous_commit')).rows).toEqual([{ synchronous_commit: 'on' }]);
      } finally {
        await client.query('rollback');
        await client.end();
      }
    }));
});
