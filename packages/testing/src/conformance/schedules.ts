/**
 * Conformance: schedules (`schedules.ts` of the contract). A schedule is
 * created once per id; its whole state round-trips; `updateSchedule` is a
 * compare-and-set on the revision, so of many workers racing to advance one
 * cursor exactly one wins; deleting leaves the started flows alone.
 *
 * @module
 */
import type { ScheduleState } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { expectCode, newFlow, type SuiteContext, T0, uid } from './support.js';

/** A schedule's state with defaults. */
export function scheduleState(overrides: Partial<ScheduleState> = {}): ScheduleState {
  return {
    type: 'report',
    queue: 'default',
    cron: '*/5 * * * *',
    timezone: 'UTC',
    input: '["in"]',
    priority: 0,
    overlap: 'skip',
    catchup: 'latest',
    paused: false,
    nextAt: T0 + 300_000,
    lastFlowId: undefined,
    bufferedAt: undefined,
    ...overrides,
  };
}

export function scheduleCases(ctx: SuiteContext): void {
  describe('schedules', () => {
    it('creates a schedule once per id at revision 1; a second create returns the first unchanged', async () => {
      const id = uid('sched');
      const first = await ctx.store.schedules.createSchedule({ id, state: scheduleState(), now: T0 });
      expect(first.created).toBe(true);
      expect(first.schedule).toEqual({ ...scheduleState(), id, revision: 1, createdAt: T0, updatedAt: T0 });
      const second = await ctx.store.schedules.createSchedule({
        id,
        state: scheduleState({ cron: '0 * * * *', input: '["other"]' }),
        now: T0 + 5,
      });
      expect(second.created).toBe(false);
      expect(second.schedule).toEqual(first.schedule);
      expect(await ctx.store.schedules.getSchedule(id)).toEqual(first.schedule);
    });

    it('round-trips every field of the state, including unset cursor fields and each catch-up kind', async () => {
      const states: ScheduleState[] = [
        scheduleState({ catchup: 'none', overlap: 'allow', nextAt: undefined, paused: true }),
        scheduleState({
          catchup: 12,
          overlap: 'buffer-one',
          lastFlowId: 'sched-x@2030-01-01T00:00:00.000Z',
          bufferedAt: T0 + 1000,
          priority: -3,
          timezone: 'Europe/Berlin',
          cron: '*/2 * * * * *',
          input: JSON.stringify({ note: 'ünïcødé ✓', n: [1, 2, 3] }),
          queue: 'reports',
        }),
      ];
      for (const state of states) {
        const id = uid('sched');
        await ctx.store.schedules.createSchedule({ id, state, now: T0 });
        const read = await ctx.store.schedules.getSchedule(id);
        expect(read).toEqual({ ...state, id, revision: 1, createdAt: T0, updatedAt: T0 });
      }
    });

    it('returns undefined for an unknown schedule', async () => {
      expect(await ctx.store.schedules.getSchedule(uid('missing'))).toBeUndefined();
    });

    it('lists schedules in id order, paged by the last id, filtered by flow type', async () => {
      const prefix = uid('list');
      const ids = [`${prefix}-c`, `${prefix}-a`, `${prefix}-b`, `${prefix}-d`];
      const type = uid('type');
      for (const [i, id] of ids.entries()) {
        await ctx.store.schedules.createSchedule({
          id,
          state: scheduleState({ type: i === 3 ? `${type}-other` : type }),
          now: T0,
        });
      }
      const mine = (await ctx.store.schedules.listSchedules({ types: [type], limit: 1000 })).map((s) => s.id);
      expect(mine).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
      const page1 = await ctx.store.schedules.listSchedules({ types: [type], limit: 2 });
      expect(page1.map((s) => s.id)).toEqual([`${prefix}-a`, `${prefix}-b`]);
      const page2 = await ctx.store.schedules.listSchedules({
        types: [type],
        limit: 2,
        after: `${prefix}-b`,
      });
      expect(page2.map((s) => s.id)).toEqual([`${prefix}-c`]);
      const all = (await ctx.store.schedules.listSchedules({ limit: 1000 })).map((s) => s.id);
      expect(all.filter((id) => id.startsWith(prefix))).toEqual([...ids].sort());
      expect(await ctx.store.schedules.listSchedules({ types: [], limit: 10 })).toEqual([]);
    });

    it('updates by compare-and-set: the current revision wins and is bumped, a stale one writes nothing', async () => {
      const id = uid('sched');
      const { schedule } = await ctx.store.schedules.createSchedule({ id, state: scheduleState(), now: T0 });
      const advanced = scheduleState({ nextAt: T0 + 600_000, lastFlowId: `${id}@tick-1` });
      const updated = await ctx.store.schedules.updateSchedule({
        id,
        revision: schedule.revision,
        state: advanced,
        now: T0 + 10,
      });
      expect(updated).toEqual({ ...advanced, id, revision: 2, createdAt: T0, updatedAt: T0 + 10 });
      const stale = await ctx.store.schedules.updateSchedule({
        id,
        revision: 1,
        state: scheduleState({ nextAt: T0 + 900_000 }),
        now: T0 + 20,
      });
      expect(stale).toBeUndefined();
      expect(await ctx.store.schedules.getSchedule(id)).toEqual(updated);
      // Clearing cursor fields is a write like any other.
      const cleared = await ctx.store.schedules.updateSchedule({
        id,
        revision: 2,
        state: scheduleState({ nextAt: undefined, paused: true }),
        now: T0 + 30,
      });
      expect(cleared?.lastFlowId).toBeUndefined();
      expect(cleared?.nextAt).toBeUndefined();
      expect(cleared?.paused).toBe(true);
      expect(cleared?.revision).toBe(3);
    });

    it('returns undefined when updating an unknown schedule, and creates nothing', async () => {
      const id = uid('missing');
      expect(
        await ctx.store.schedules.updateSchedule({ id, revision: 1, state: scheduleState(), now: T0 }),
      ).toBeUndefined();
      expect(await ctx.store.schedules.getSchedule(id)).toBeUndefined();
    });

    it('lets exactly one of many concurrent advances from the same revision win', async () => {
      const id = uid('sched');
      const { schedule } = await ctx.store.schedules.createSchedule({ id, state: scheduleState(), now: T0 });
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          ctx.store.schedules.updateSchedule({
            id,
            revision: schedule.revision,
            state: scheduleState({ nextAt: T0 + 600_000 + i, lastFlowId: `${id}@w${i}` }),
            now: T0 + 1,
          }),
        ),
      );
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      const stored = await ctx.store.schedules.getSchedule(id);
      expect(stored?.revision).toBe(2);
      expect(stored?.lastFlowId).toBe(winners[0]?.lastFlowId);
    });

    it('deletes a schedule once and leaves the flows it started alone', async () => {
      const id = uid('sched');
      const flow = newFlow({ id: `${id}@2030-01-01T00:05:00.000Z`, type: 'report' });
      await ctx.store.createFlow(flow);
      await ctx.store.schedules.createSchedule({
        id,
        state: scheduleState({ lastFlowId: flow.id }),
        now: T0,
      });
      expect(await ctx.store.schedules.deleteSchedule({ id })).toBe(true);
      expect(await ctx.store.schedules.deleteSchedule({ id })).toBe(false);
      expect(await ctx.store.schedules.getSchedule(id)).toBeUndefined();
      expect((await ctx.store.getFlow(flow.id))?.id).toBe(flow.id);
      // The id is free again.
      expect(
        (await ctx.store.schedules.createSchedule({ id, state: scheduleState(), now: T0 })).created,
      ).toBe(true);
    });

    it('refuses malformed schedules before the store sees them', async () => {
      const id = uid('sched');
      const bad: Partial<ScheduleState>[] = [
        { overlap: 'sometimes' as never },
        { catchup: 0 },
        { catchup: -2 },
        { catchup: 1.5 },
        { catchup: 'all' as never },
        { cron: '' },
        { paused: 'no' as never },
        { nextAt: Number.NaN },
        { priority: 0.5 },
      ];
      for (const overrides of bad) {
        await expectCode(
          ctx.store.schedules.createSchedule({ id, state: scheduleState(overrides), now: T0 }),
          'INVALID_ARGUMENT',
        );
      }
      await expectCode(
        ctx.store.schedules.createSchedule({ id: 'has space', state: scheduleState(), now: T0 }),
        'INVALID_ID',
      );
      await expectCode(
        ctx.store.schedules.createSchedule({ id: 'x'.repeat(401), state: scheduleState(), now: T0 }),
        'INVALID_ARGUMENT',
      );
      await expectCode(
        ctx.store.schedules.updateSchedule({ id, revision: 0, state: scheduleState(), now: T0 }),
        'INVALID_ARGUMENT',
      );
      await expectCode(ctx.store.schedules.listSchedules({ limit: 0 }), 'INVALID_ARGUMENT');
      expect(await ctx.store.schedules.getSchedule(id)).toBeUndefined();
    });
  });
}
