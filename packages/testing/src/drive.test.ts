import { InMemoryExecutionLog } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { eventually, freezableStore } from './drive.js';

describe('freezableStore', () => {
  it('hangs every call after the chosen write while the real store keeps working', async () => {
    const real = new InMemoryExecutionLog();
    const wrapped = freezableStore(real, { freezeAfterRecord: (p) => p === 0 });
    await wrapped.store.createFlow({
      id: 'f',
      type: 't',
      queue: 'q',
      input: '[1]',
      priority: 0,
      runAt: 0,
      now: 0,
    });
    const [claimed] = await wrapped.store.claim({
      workerId: 'w',
      types: ['t'],
      queues: ['q'],
      limit: 1,
      leaseMs: 10,
      now: 0,
    });
    const write = wrapped.store.recordOperation({
      ...{ flowId: 'f', token: claimed?.token ?? 0 },
      record: {
        flowId: 'f',
        position: 0,
        key: 'a#0',
        kind: 'step',
        status: 'completed',
        attempts: 1,
        startedAt: 0,
      },
    });
    let settled = false;
    write.then(() => {
      settled = true;
    });
    await eventually(() => wrapped.frozen);
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    expect(await real.getHistory('f')).toHaveLength(1);
  });

  it('freezes after the chosen record when it comes in a batch of writes', async () => {
    const real = new InMemoryExecutionLog();
    const wrapped = freezableStore(real, { freezeAfterRecord: (p) => p === 1 });
    await real.createFlow({ id: 'g', type: 't', queue: 'q', input: '[1]', priority: 0, runAt: 0, now: 0 });
    const [claimed] = await real.claim({
      workerId: 'w',
      types: ['t'],
      queues: ['q'],
      limit: 1,
      leaseMs: 10,
      now: 0,
    });
    const record = (position: number) => ({
      flowId: 'g',
      token: claimed?.token ?? 0,
      record: {
        flowId: 'g',
        position,
        key: `s${position}#0`,
        kind: 'step' as const,
        status: 'completed' as const,
        attempts: 1,
        startedAt: 0,
      },
    });
    const batch = wrapped.store.applyWrites?.([
      { op: 'record', request: record(0) },
      { op: 'record', request: record(1) },
    ]);
    let settled = false;
    void batch?.then(() => {
      settled = true;
    });
    await eventually(() => wrapped.frozen);
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    expect(await real.getHistory('g')).toHaveLength(2);
  });

  it('eventually throws with the condition named when time runs out', async () => {
    await expect(eventually(() => false, 30, 'the moon')).rejects.toThrow('the moon not met within 30 ms');
  });
});
