/**
 * Conformance: the worker registry. Heartbeats register workers; a worker
 * whose heartbeat lapsed is declared dead by the next heartbeat of another,
 * and the leases it held expire at once (its flows are claimable now, and its
 * late writes are fenced off once another worker claims them). A late copy of
 * a heartbeat never moves a worker back in time, and a worker that lapsed
 * itself declares no one dead on that beat.
 *
 * @module
 */
import type { WorkerInfo } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { createAndClaim, expectCode, op, type SuiteContext, T0, uid } from './support.js';

/** A worker's registration with defaults. */
function info(id: string, overrides: Partial<WorkerInfo> = {}): WorkerInfo {
  return {
    id,
    kind: 'worker',
    host: 'host-a',
    pid: 4242,
    queues: ['default'],
    types: ['order'],
    concurrency: 10,
    startedAt: T0,
    ...overrides,
  };
}

export function workerCases(ctx: SuiteContext): void {
  describe('worker registry', () => {
    it('registers a worker on its heartbeat, refreshes it, and lists it', async () => {
      const id = uid('w');
      await ctx.store.heartbeatWorker({ worker: info(id), now: T0, lapseMs: 2000 });
      const stats = JSON.stringify({ flowsRun: 3 });
      const again = await ctx.store.heartbeatWorker({
        worker: info(id, { stats }),
        now: T0 + 500,
        lapseMs: 2000,
      });
      expect(again.reaped).toEqual([]);
      const listed = (await ctx.store.listWorkers()).filter((w) => w.id === id);
      expect(listed).toEqual([{ ...info(id, { stats }), lastSeenAt: T0 + 500 }]);
    });

    it('declares a worker dead when its heartbeat lapses, and expires the leases it held at once', async () => {
      const dead = uid('dead');
      const alive = uid('alive');
      const { flow, token } = await createAndClaim(ctx.store, {}, 60_000);
      // The flow's lease was taken by createAndClaim as worker 'w1': re-claim it as `dead` to own it.
      await ctx.store.releaseLease({ flowId: flow.id, token, now: T0 });
      const [owned] = await ctx.store.claim({
        workerId: dead,
        types: [flow.type],
        queues: [flow.queue],
        limit: 1,
        leaseMs: 60_000,
        now: T0,
      });
      expect(owned?.flow.leaseOwner).toBe(dead);
      await ctx.store.heartbeatWorker({ worker: info(dead), now: T0, lapseMs: 2000 });
      // Within the lapse: nobody is declared dead.
      expect(
        (await ctx.store.heartbeatWorker({ worker: info(alive), now: T0 + 1500, lapseMs: 2000 })).reaped,
      ).toEqual([]);
      expect((await ctx.store.getFlow(flow.id))?.leaseExpiresAt).toBe(T0 + 60_000);
      // Past it: the next heartbeat of another worker declares it dead and expires its lease.
      const beat = await ctx.store.heartbeatWorker({ worker: info(alive), now: T0 + 2500, lapseMs: 2000 });
      expect(beat.reaped).toEqual([dead]);
      expect((await ctx.store.listWorkers()).map((w) => w.id)).not.toContain(dead);
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({
        status: 'running',
        leaseExpiresAt: T0 + 2500,
      });
      // Claimable now, long before its 60 s lease would have ended; the dead worker is fenced off.
      const [taken] = await ctx.store.claim({
        workerId: alive,
        types: [flow.type],
        queues: [flow.queue],
        limit: 1,
        leaseMs: 60_000,
        now: T0 + 2500,
      });
      expect(taken?.flow.leaseOwner).toBe(alive);
      await expectCode(
        ctx.store.recordOperation({ flowId: flow.id, token: owned?.token ?? 0, record: op(flow.id, 0) }),
        'LEASE_LOST',
      );
    });

    it('never moves a worker back in time: a late copy of an earlier heartbeat changes nothing', async () => {
      const late = uid('late');
      const judge = uid('judge');
      await ctx.store.heartbeatWorker({ worker: info(judge), now: T0 + 1000, lapseMs: 2000 });
      await ctx.store.heartbeatWorker({
        worker: info(late, { concurrency: 2 }),
        now: T0 + 1000,
        lapseMs: 2000,
      });
      // A copy of an earlier beat, resent after a lost connection, arrives last.
      await ctx.store.heartbeatWorker({ worker: info(late, { concurrency: 1 }), now: T0, lapseMs: 2000 });
      expect((await ctx.store.listWorkers()).find((w) => w.id === late)).toMatchObject({
        lastSeenAt: T0 + 1000,
        concurrency: 2,
      });
      // Lapsed only if its last-seen time had gone back to T0.
      const beat = await ctx.store.heartbeatWorker({ worker: info(judge), now: T0 + 2500, lapseMs: 2000 });
      expect(beat.reaped).not.toContain(late);
      expect((await ctx.store.listWorkers()).map((w) => w.id)).toContain(late);
    });

    it('lets a worker that lapsed itself declare no one dead on that beat, and judge on its next', async () => {
      const other = uid('other');
      const stalled = uid('stalled');
      await ctx.store.heartbeatWorker({ worker: info(other), now: T0, lapseMs: 2000 });
      await ctx.store.heartbeatWorker({ worker: info(stalled), now: T0, lapseMs: 2000 });
      // Both silent for 3 s, as when their process stalls: the first to beat again was silent too.
      const first = await ctx.store.heartbeatWorker({ worker: info(stalled), now: T0 + 3000, lapseMs: 2000 });
      expect(first.reaped).toEqual([]);
      expect((await ctx.store.listWorkers()).map((w) => w.id)).toContain(other);
      // Its next beat is on time: now the other's silence counts.
      const next = await ctx.store.heartbeatWorker({ worker: info(stalled), now: T0 + 3500, lapseMs: 2000 });
      expect(next.reaped).toContain(other);
      expect((await ctx.store.listWorkers()).map((w) => w.id)).not.toContain(other);
    });

    it('leaves the leases of a worker that is removed gracefully, and expires those of one known to be dead', async () => {
      const graceful = uid('graceful');
      const crashed = uid('crashed');
      const a = await createAndClaim(ctx.store, {}, 60_000);
      const b = await createAndClaim(ctx.store, {}, 60_000);
      for (const [worker, claimed] of [
        [graceful, a],
        [crashed, b],
      ] as const) {
        await ctx.store.releaseLease({ flowId: claimed.flow.id, token: claimed.token, now: T0 });
        await ctx.store.claim({
          workerId: worker,
          types: [claimed.flow.type],
          queues: ['default'],
          limit: 1,
          leaseMs: 60_000,
          now: T0,
        });
        await ctx.store.heartbeatWorker({ worker: info(worker), now: T0, lapseMs: 2000 });
      }
      expect(await ctx.store.removeWorker({ workerId: graceful, now: T0 + 10, expireLeases: false })).toBe(0);
      expect(await ctx.store.removeWorker({ workerId: crashed, now: T0 + 10, expireLeases: true })).toBe(1);
      expect(await ctx.store.removeWorker({ workerId: uid('unknown'), now: T0, expireLeases: true })).toBe(0);
      const ids = (await ctx.store.listWorkers()).map((w) => w.id);
      expect(ids).not.toContain(graceful);
      expect(ids).not.toContain(crashed);
      expect((await ctx.store.getFlow(a.flow.id))?.leaseExpiresAt).toBe(T0 + 60_000);
      expect((await ctx.store.getFlow(b.flow.id))?.leaseExpiresAt).toBe(T0 + 10);
    });

    it('refuses a malformed heartbeat', async () => {
      await expectCode(
        ctx.store.heartbeatWorker({ worker: info(uid('w')), now: T0, lapseMs: 0 }),
        'INVALID_ARGUMENT',
      );
      await expectCode(
        ctx.store.heartbeatWorker({
          worker: info(uid('w'), { kind: 'robot' as never }),
          now: T0,
          lapseMs: 1,
        }),
        'INVALID_ARGUMENT',
      );
      await expectCode(
        ctx.store.heartbeatWorker({ worker: info(''), now: T0, lapseMs: 1 }),
        'INVALID_ARGUMENT',
      );
    });
  });
}
