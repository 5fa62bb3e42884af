import { describe, expect, it } from 'vitest';
import type { ExecutionLog } from '../execution-log.js';
import { InMemoryExecutionLog } from '../in-memory.js';
import type { ScheduleState } from '../schedules.js';
import { runtimeStore } from './runtime-store.js';

const state: ScheduleState = {
  type: 'report',
  queue: 'default',
  cron: '* * * * *',
  timezone: 'UTC',
  input: '[]',
  priority: 0,
  overlap: 'skip',
  catchup: 'latest',
  paused: false,
  nextAt: 60_000,
  lastFlowId: undefined,
  bufferedAt: undefined,
};

describe('the runtime wrapper of schedules', () => {
  it('refuses schedules on a store that keeps none, saying so', async () => {
    const bare = {
      name: 'bare',
      capabilities: { events: false },
      claim: async () => [],
      close: async () => {},
    };
    const store = runtimeStore(bare as unknown as ExecutionLog);
    expect(store.schedules.supported).toBe(false);
    await expect(store.schedules.createSchedule({ id: 's', state, now: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('keeps no schedules'),
    });
  });

  it('refuses schedule calls after close, as every other call', async () => {
    const store = runtimeStore(new InMemoryExecutionLog());
    expect(store.schedules.supported).toBe(true);
    await store.close();
    await expect(store.schedules.getSchedule('s')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('caps a list at the page maximum and lists nothing for no types', async () => {
    const store = runtimeStore(new InMemoryExecutionLog());
    for (let i = 0; i < 3; i++) await store.schedules.createSchedule({ id: `s${i}`, state, now: 0 });
    expect(await store.schedules.listSchedules({ limit: 1_000_000 })).toHaveLength(3);
    expect(await store.schedules.listSchedules({ limit: 10, types: [] })).toEqual([]);
    expect(await store.schedules.listSchedules({ limit: 10, types: ['report', 'report'] })).toHaveLength(3);
  });
});
