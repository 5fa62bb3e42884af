import { ErrorCode, InMemoryExecutionLog, type NewFlow } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { FaultPlan, type FaultRates } from './fault-plan.js';
import { createFaultStore } from './fault-store.js';
import { Prng } from './prng.js';
import { SimClock } from './sim-clock.js';
import { Trace } from './trace.js';

const NONE: FaultRates = { unavailable: 0, lostReply: 0, delay: 0, duplicate: 0, jump: 0 };

function setup(rates: Partial<FaultRates> = {}) {
  const inner = new InMemoryExecutionLog();
  const clock = new SimClock();
  const trace = new Trace();
  const plan = new FaultPlan(7, new Prng(7), { ...NONE, ...rates });
  const store = createFaultStore({ inner, caller: 'w0', plan, trace, clock, leaseMs: 60_000 });
  const flow = (id: string): NewFlow => ({
    id,
    type: 't',
    queue: 'q',
    input: '1',
    priority: 0,
    runAt: clock.now(),
    now: clock.now(),
  });
  return { inner, clock, trace, store, flow };
}

describe('the fault-injecting store', () => {
  it('loses the reply of a write that committed', async () => {
    const { inner, trace, store, flow } = setup({ lostReply: 1 });
    await expect(store.createFlow(flow('a'))).rejects.toMatchObject({ code: ErrorCode.STORE_UNAVAILABLE });
    expect(await inner.getFlow('a')).toBeDefined();
    expect(trace.entries.map((e) => [e.method, e.ok])).toEqual([['createFlow', true]]);
  });

  it('refuses a call before the store sees it', async () => {
    const { inner, trace, store, flow } = setup({ unavailable: 1 });
    await expect(store.createFlow(flow('a'))).rejects.toMatchObject({ code: ErrorCode.STORE_UNAVAILABLE });
    expect(await inner.getFlow('a')).toBeUndefined();
    expect(trace.entries).toEqual([]);
  });

  it('delivers a duplicated call twice; the caller sees the second answer', async () => {
    const { trace, store, flow } = setup({ duplicate: 1 });
    const result = await store.createFlow(flow('a'));
    expect(result.created).toBe(false);
    expect(trace.entries.map((e) => (e.value as { created: boolean }).created)).toEqual([true, false]);
  });

  it('jumps the clock past the lease before the call', async () => {
    const { clock, store } = setup({ jump: 1 });
    const before = clock.now();
    await store.getFlow('a');
    expect(clock.now() - before).toBeGreaterThan(60_000);
  });

  it('holds calls of a paused process until resumed, and refuses every call of a dead one', async () => {
    const { inner, store, flow } = setup();
    store.pause();
    const held = store.createFlow(flow('a'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(await inner.getFlow('a')).toBeUndefined();
    store.resume();
    expect((await held).created).toBe(true);
    store.kill();
    await expect(store.getFlow('a')).rejects.toMatchObject({ code: ErrorCode.STORE_UNAVAILABLE });
  });

  it('makes the same decisions for the same seed, whatever else was called before', () => {
    const rates = { ...NONE, unavailable: 0.3, duplicate: 0.3 };
    const a = new FaultPlan(42, new Prng(42), rates);
    const b = new FaultPlan(42, new Prng(42), rates);
    b.decide('w1', 'claim');
    b.decide('client', 'createFlow');
    const first = Array.from({ length: 50 }, () => a.decide('w0', 'recordOperation')?.kind);
    const second = Array.from({ length: 50 }, () => b.decide('w0', 'recordOperation')?.kind);
    expect(second).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(1);
  });
});
