import { describe, expect, it } from 'vitest';
import { ErgonError, ErrorCode } from '../../errors.js';
import type { BatchWrite, ExecutionLog } from '../execution-log.js';
import { InMemoryExecutionLog } from '../in-memory.js';
import type { OperationRecord } from '../records.js';
import { runtimeStore } from './runtime-store.js';

const T0 = 1_000_000;

/** An in-memory store that keeps the batches it is given. */
function recordingStore(): { store: InMemoryExecutionLog; batches: BatchWrite[][] } {
  const store = new InMemoryExecutionLog();
  const batches: BatchWrite[][] = [];
  const apply = store.applyWrites.bind(store);
  store.applyWrites = (writes) => {
    batches.push([...writes]);
    return apply(writes);
  };
  return { store, batches };
}

async function claimed(store: ExecutionLog, count: number) {
  for (let i = 0; i < count; i++) {
    await store.createFlow({
      id: `f${i}`,
      type: 't',
      queue: 'q',
      input: '[]',
      priority: 0,
      runAt: T0,
      now: T0,
    });
  }
  return store.claim({ workerId: 'w', types: ['t'], queues: ['q'], limit: count, leaseMs: 60_000, now: T0 });
}

const op = (flowId: string, position: number): OperationRecord => ({
  flowId,
  position,
  key: `s${position}#0`,
  kind: 'step',
  status: 'completed',
  attempts: 1,
  result: '[1]',
  startedAt: T0,
  finishedAt: T0,
});

describe('writeInOrder', () => {
  it('keeps a group in one batch, in order, even when the queue ahead of it fills a batch', async () => {
    const { store, batches } = recordingStore();
    const runtime = runtimeStore(store);
    const flows = await claimed(runtime, 301);
    const last = flows[300];
    if (!last) throw new Error('unreachable');
    // 255 single writes, then a group of three: a cut at 256 writes would fall inside the group.
    const singles = flows
      .slice(0, 255)
      .map((f) => runtime.recordOperation({ flowId: f.flow.id, token: f.token, record: op(f.flow.id, 0) }));
    const group = runtime.writeInOrder([
      { op: 'record', request: { flowId: last.flow.id, token: last.token, record: op(last.flow.id, 0) } },
      { op: 'record', request: { flowId: last.flow.id, token: last.token, record: op(last.flow.id, 1) } },
      {
        op: 'finish',
        request: { flowId: last.flow.id, token: last.token, status: 'completed', result: '[2]', now: T0 },
      },
    ]);
    await Promise.all(singles);
    const outcomes = await group;
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true]);
    const holding = batches.filter((b) => b.some((w) => w.request.flowId === last.flow.id));
    expect(holding).toHaveLength(1);
    expect(holding[0]?.filter((w) => w.request.flowId === last.flow.id).map((w) => w.op)).toEqual([
      'record',
      'record',
      'finish',
    ]);
    expect(batches.every((b) => b.length <= 256)).toBe(true);
    expect(await runtime.getFlow(last.flow.id)).toMatchObject({ status: 'completed', result: '[2]' });
  });

  it('without batches, stops at the first write that fails: the finish after a refused record is not made', async () => {
    const store = new InMemoryExecutionLog();
    const damaged = new ErgonError(ErrorCode.STORE_CORRUPT, 'injected: damaged history');
    const failing = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'applyWrites') return undefined;
        if (property === 'recordOperation') return () => Promise.reject(damaged);
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const runtime = runtimeStore(failing);
    const [flow] = await claimed(runtime, 1);
    if (!flow) throw new Error('unreachable');
    const outcomes = await runtime.writeInOrder([
      { op: 'record', request: { flowId: flow.flow.id, token: flow.token, record: op(flow.flow.id, 0) } },
      {
        op: 'finish',
        request: { flowId: flow.flow.id, token: flow.token, status: 'completed', result: '[1]', now: T0 },
      },
    ]);
    expect(outcomes).toEqual([
      { ok: false, error: damaged },
      { ok: false, error: damaged },
    ]);
    expect(await runtime.getFlow(flow.flow.id)).toMatchObject({ status: 'running' });
  });

  it('refuses more writes than a batch takes', async () => {
    const runtime = runtimeStore(new InMemoryExecutionLog());
    const writes = Array.from(
      { length: 257 },
      (_, i): BatchWrite => ({
        op: 'finish',
        request: { flowId: `f${i}`, token: 1, status: 'completed', now: T0 },
      }),
    );
    await expect(runtime.writeInOrder(writes)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
