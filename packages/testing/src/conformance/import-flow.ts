/**
 * Conformance: `importFlow`, a flow created with its history and buffered
 * signals in one atomic step (fork, `ergon flows import`). Read back exactly;
 * first write wins by flow id; an imported flow lives on as any other
 * (claims, fencing, first write wins on its history, signals, purge).
 *
 * @module
 */
import type { FlowRecord, ImportedSignal, OperationRecord } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { expectCode, op, type SuiteContext, T0, uid } from './support.js';

/** A flow record as an export holds it, with defaults. */
function imported(overrides: Partial<FlowRecord> = {}): FlowRecord {
  return {
    id: uid('imp'),
    type: uid('type'),
    queue: 'default',
    status: 'pending',
    priority: 3,
    input: '["in"]',
    runAt: T0,
    fencingToken: 4,
    waits: [],
    cancelRequested: false,
    runCount: 2,
    abandonedRuns: 0,
    createdAt: T0 - 1000,
    updatedAt: T0 - 10,
    ...overrides,
  };
}

function historyOf(flowId: string): OperationRecord[] {
  return [
    op(flowId, 0, { seq: 1 }),
    op(flowId, 1, {
      kind: 'run',
      key: 'fetch#0',
      status: 'failed',
      attempts: 3,
      error: '["boom"]',
      result: undefined,
      seq: 2,
    }),
    op(flowId, 2, {
      kind: 'sleep',
      key: 'sleep#0',
      status: 'waiting',
      wakeAt: T0 + 60_000,
      result: undefined,
      finishedAt: undefined,
    }),
  ];
}

const SIGNALS: readonly ImportedSignal[] = [
  { name: 'approve', payload: '["first"]', sentAt: T0 - 5 },
  { name: 'approve', payload: '["second"]', sentAt: T0 - 4 },
  { name: 'other', payload: '[null]', sentAt: T0 - 3 },
];

export function importCases(ctx: SuiteContext): void {
  describe('importFlow', () => {
    it('reads back the imported flow, history and signals exactly as given', async () => {
      const flow = imported({
        status: 'suspended',
        waits: [{ kind: 'signal', name: 'approve', position: 3 }],
        runAt: undefined,
        result: undefined,
        lastError: '["last"]',
        abandonedRuns: 1,
        progress: '[0.5]',
        progressAt: T0 - 20,
        traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      });
      const history = historyOf(flow.id);
      const result = await ctx.store.importFlow({ flow, history, signals: SIGNALS, now: T0 });
      expect(result.created).toBe(true);
      expect(result.flow).toEqual(flow);
      expect(await ctx.store.getFlow(flow.id)).toEqual(flow);
      expect(await ctx.store.getHistory(flow.id)).toEqual(history);
      const signals = await ctx.store.getSignals(flow.id);
      expect(signals.map(({ name, payload, sentAt, flowId }) => ({ name, payload, sentAt, flowId }))).toEqual(
        SIGNALS.map((s) => ({ ...s, flowId: flow.id })),
      );
      expect(signals.map((s) => s.seq)).toEqual([...signals.map((s) => s.seq)].sort((a, b) => a - b));
      const page = await ctx.store.listFlows({ type: flow.type });
      expect(page.flows).toEqual([flow]);
    });

    it('keeps a finished flow finished, with its result, error and times', async () => {
      const done = imported({ status: 'completed', result: '["ok"]', runAt: undefined, finishedAt: T0 - 11 });
      const failed = imported({
        type: done.type,
        status: 'failed',
        error: '{"name":"Error","message":"x"}',
        runAt: undefined,
        finishedAt: T0 - 12,
        createdAt: T0 - 900,
      });
      for (const flow of [done, failed])
        await ctx.store.importFlow({ flow, history: [], signals: [], now: T0 });
      expect(await ctx.store.getFlow(done.id)).toEqual(done);
      expect(await ctx.store.getFlow(failed.id)).toEqual(failed);
      const claimed = await ctx.store.claim({
        workerId: 'w',
        types: [done.type],
        queues: ['default'],
        limit: 10,
        leaseMs: 1000,
        now: T0 + 1,
      });
      expect(claimed).toEqual([]);
      expect(await ctx.store.purge({ finishedBefore: T0, limit: 100 })).toBeGreaterThanOrEqual(2);
      expect(await ctx.store.getFlow(done.id)).toBeUndefined();
    });

    it('writes nothing when the id exists (first write wins) and returns the existing flow', async () => {
      const flow = imported();
      await ctx.store.importFlow({ flow, history: historyOf(flow.id), signals: [], now: T0 });
      const again = imported({ id: flow.id, type: flow.type, priority: 9, input: '["other"]' });
      const result = await ctx.store.importFlow({
        flow: again,
        history: [op(flow.id, 0, { result: '["changed"]' }), op(flow.id, 7)],
        signals: SIGNALS,
        now: T0,
      });
      expect(result).toEqual({ created: false, flow });
      expect(await ctx.store.getFlow(flow.id)).toEqual(flow);
      expect(await ctx.store.getHistory(flow.id)).toEqual(historyOf(flow.id));
      expect(await ctx.store.getSignals(flow.id)).toEqual([]);
      // An id taken by createFlow is refused the same way.
      await ctx.store.createFlow({
        id: 'taken-by-create-' + flow.id,
        type: flow.type,
        queue: 'default',
        input: '[1]',
        priority: 0,
        runAt: T0,
        now: T0,
      });
      const clash = await ctx.store.importFlow({
        flow: imported({ id: `taken-by-create-${flow.id}` }),
        history: [op(`taken-by-create-${flow.id}`, 0)],
        signals: [],
        now: T0,
      });
      expect(clash.created).toBe(false);
      expect(await ctx.store.getHistory(`taken-by-create-${flow.id}`)).toEqual([]);
    });

    it('makes a pending flow claimable; its history stays first-write-wins under the new lease', async () => {
      const flow = imported();
      await ctx.store.importFlow({ flow, history: historyOf(flow.id), signals: SIGNALS, now: T0 });
      const [claimed] = await ctx.store.claim({
        workerId: 'w',
        types: [flow.type],
        queues: ['default'],
        limit: 5,
        leaseMs: 1000,
        now: T0,
      });
      expect(claimed?.flow).toMatchObject({ id: flow.id, status: 'running', runCount: 3 });
      expect(claimed?.token).toBe(5);
      const lease = { flowId: flow.id, token: claimed?.token ?? 0 };
      const kept = await ctx.store.recordOperation({
        ...lease,
        record: op(flow.id, 0, { result: '["new"]' }),
      });
      expect(kept).toMatchObject({ existed: true, record: { result: '["r0"]' } });
      const replaced = await ctx.store.recordOperation({
        ...lease,
        record: op(flow.id, 2, { kind: 'sleep', key: 'sleep#0', result: '[null]' }),
      });
      expect(replaced.existed).toBe(false);
      const consumed = await ctx.store.consumeSignal({
        ...lease,
        name: 'approve',
        record: op(flow.id, 3, { kind: 'signal', key: 'approve#0', result: undefined }),
      });
      expect(consumed?.record.result).toBe('["first"]');
      await expectCode(
        ctx.store.recordOperation({ flowId: flow.id, token: 4, record: op(flow.id, 5) }),
        'LEASE_LOST',
      );
    });

    it('wakes an imported suspended flow when the signal it waits for arrives', async () => {
      const flow = imported({
        status: 'suspended',
        runAt: undefined,
        waits: [{ kind: 'signal', name: 'go', position: 0 }],
      });
      await ctx.store.importFlow({ flow, history: [], signals: [], now: T0 });
      const claim = () =>
        ctx.store.claim({
          workerId: 'w',
          types: [flow.type],
          queues: ['default'],
          limit: 1,
          leaseMs: 1000,
          now: T0 + 5,
        });
      expect(await claim()).toEqual([]);
      await ctx.store.sendSignal({ flowId: flow.id, name: 'go', payload: '[1]', now: T0 + 1 });
      expect((await claim()).map((c) => c.flow.id)).toEqual([flow.id]);
    });

    it('refuses a malformed import with INVALID_ARGUMENT and writes nothing', async () => {
      const flow = imported();
      const bad = [
        { flow, history: [op('someone-else', 0)], signals: [] },
        { flow, history: [op(flow.id, 1), op(flow.id, 1)], signals: [] },
        {
          flow,
          history: [{ ...op(flow.id, 0), kind: 'teleport' } as unknown as OperationRecord],
          signals: [],
        },
        { flow: { ...flow, status: 'lost' } as unknown as FlowRecord, history: [], signals: [] },
        { flow, history: [], signals: [{ name: 'x', payload: 3 } as unknown as ImportedSignal] },
      ];
      for (const request of bad) {
        await expectCode(ctx.store.importFlow({ ...request, now: T0 }), 'INVALID_ARGUMENT');
      }
      expect(await ctx.store.getFlow(flow.id)).toBeUndefined();
    });
  });
}
