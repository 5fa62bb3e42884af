/**
 * Conformance: damaged data stays with its flow (DESIGN §2.7). A history the
 * store cannot read is `STORE_CORRUPT` (never `STORE_UNAVAILABLE`, which the
 * engine would retry forever), and the flow can still be failed; a flow
 * record with a damaged part is returned flagged (`damage`) by reads and
 * lists instead of failing them; a child still finishes, and wakes its
 * parent, when the parent's waits are damaged.
 *
 * The store's test damages its own data at rest through {@link DamageHooks}.
 *
 * @module
 */
import type { ExecutionLog } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { createAndClaim, expectCode, newFlow, op, type SuiteContext, T0, uid } from './support.js';

/** Ways for a store's own test to damage its data at rest, as a disk or an outside writer might. */
export interface DamageHooks<S extends ExecutionLog = ExecutionLog> {
  /** Makes the flow's history unreadable: a record that is not one, or a key of the wrong type. */
  readonly history: (store: S, flowId: string) => Promise<void> | void;
  /** Makes the flow record's waits unreadable: text that is not the store's JSON. */
  readonly waits: (store: S, flowId: string) => Promise<void> | void;
}

export function damagedCases<S extends ExecutionLog>(ctx: SuiteContext, hooks: DamageHooks<S>): void {
  const raw = () => ctx.store.inner as S;

  describe('damaged data', () => {
    it('reports a damaged history as STORE_CORRUPT, and still lets the lease holder fail the flow', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      await ctx.store.recordOperation({ ...lease, record: op(flow.id, 0) });
      await ctx.store.recordOperation({ ...lease, record: op(flow.id, 1) });
      await hooks.history(raw(), flow.id);
      await expectCode(ctx.store.getHistory(flow.id), 'STORE_CORRUPT');
      await ctx.store.finishFlow({ ...lease, status: 'failed', error: '["STORE_CORRUPT"]', now: T0 + 1 });
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({
        status: 'failed',
        error: '["STORE_CORRUPT"]',
      });
    });

    it('lists and reads a flow whose waits are damaged, flagged, without hiding the others', async () => {
      const type = uid('damaged-list');
      const { flow, token } = await createAndClaim(ctx.store, { type });
      await ctx.store.suspend({
        flowId: flow.id,
        token,
        waits: [{ kind: 'signal', name: 'go', position: 0 }],
        now: T0,
      });
      const others = [newFlow({ type }), newFlow({ type })];
      for (const other of others) await ctx.store.createFlow(other);
      await hooks.waits(raw(), flow.id);

      const page = await ctx.store.listFlows({ type, limit: 10 });
      expect(page.flows.map((f) => f.id).sort()).toEqual([flow.id, ...others.map((o) => o.id)].sort());
      const damaged = page.flows.find((f) => f.id === flow.id);
      expect(damaged).toMatchObject({ status: 'suspended', waits: [] });
      expect(typeof damaged?.damage).toBe('string');
      for (const other of page.flows.filter((f) => f.id !== flow.id)) expect(other.damage).toBeUndefined();
      const read = await ctx.store.getFlow(flow.id);
      expect(read).toMatchObject({ id: flow.id, status: 'suspended', waits: [] });
      expect(typeof read?.damage).toBe('string');
    });

    it('finishes a child whose waiting parent has damaged waits, and wakes the parent', async () => {
      const parent = await createAndClaim(ctx.store);
      const childId = `${parent.flow.id}/0`;
      const childType = uid('child');
      await ctx.store.createFlow(newFlow({ id: childId, type: childType, parentId: parent.flow.id }));
      await ctx.store.suspend({
        flowId: parent.flow.id,
        token: parent.token,
        waits: [{ kind: 'child', flowId: childId, position: 0 }],
        now: T0,
      });
      await hooks.waits(raw(), parent.flow.id);
      const [child] = await ctx.store.claim({
        workerId: 'w',
        types: [childType],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0,
      });
      if (!child) throw new Error('the child was not claimable');
      await ctx.store.finishFlow({
        flowId: childId,
        token: child.token,
        status: 'completed',
        result: '[1]',
        now: T0 + 1,
      });
      expect(await ctx.store.getFlow(childId)).toMatchObject({ status: 'completed' });
      const [woken] = await ctx.store.claim({
        workerId: 'w',
        types: [parent.flow.type],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0 + 1,
      });
      expect(woken?.flow.id).toBe(parent.flow.id);
    });
  });
}
