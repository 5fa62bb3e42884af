// The durable bridge in one process (in-memory store): flowId = transaction
// id, a redelivered transaction never repeats a finished step. The
// cross-process crash test is in crash.test.ts.
import { InMemoryExecutionLog, NonRetryableError, RetryPolicy, type Transaction } from '@ergon/core';
import { flow } from '@ergon/executor';
import { describe, expect, it } from 'vitest';
import {
  ConsumerPolicy,
  consumer,
  durable,
  processOne,
  runTask,
  type TransactionOutcome,
} from '../src/index.js';
import { MemoryConnector } from './support/memory-connector.js';

interface Order {
  n: number;
  slowFirst?: boolean;
  bad?: boolean;
}

function ledgerFlow(effects: string[]) {
  let slowed = false;
  return flow('order-flow', async (ctx, order: Order) => {
    const a = await ctx.run('a', () => {
      effects.push(`${ctx.flowId}:a`);
      return order.n + 1;
    });
    const b = await ctx.run(
      'b',
      async () => {
        if (order.slowFirst && !slowed) {
          slowed = true;
          await new Promise((r) => setTimeout(r, 300));
        }
        if (order.bad) throw new NonRetryableError(`order ${order.n} is bad`);
        effects.push(`${ctx.flowId}:b`);
        return a * 2;
      },
      { retry: RetryPolicy.NONE },
    );
    return { a, b, flowId: ctx.flowId };
  });
}

describe('durable bridge', () => {
  it('runs the transaction as a flow whose id is the transaction id; redelivery returns the recorded result', async () => {
    const effects: string[] = [];
    const store = new InMemoryExecutionLog();
    const input = new MemoryConnector<Order>();
    input.push({ n: 1 }, { n: 2 });
    const task = consumer({
      name: 'durable-orders',
      connectors: { input },
      policies: { consumer: new ConsumerPolicy({ mode: 'batch' }) },
      processTransaction: durable(ledgerFlow(effects), { store }),
    });
    const outcomes: TransactionOutcome[] = [];
    await runTask(task, { handleSignals: false, onOutcome: (o) => outcomes.push(o) });
    expect(outcomes.map((o) => o.result)).toEqual([
      { a: 2, b: 4, flowId: 't1' },
      { a: 3, b: 6, flowId: 't2' },
    ]);
    expect((await store.getFlow('t1'))?.status).toBe('completed');
    // The same transaction again (a redelivery): nothing runs twice.
    const again = await processOne(task, { id: 't1', payload: { n: 1 } });
    expect(again).toMatchObject({ status: 'succeeded', result: { a: 2, b: 4, flowId: 't1' } });
    expect(effects.sort()).toEqual(['t1:a', 't1:b', 't2:a', 't2:b']);
  });

  it('a retry after a timed-out attempt waits for the running flow instead of starting it again', async () => {
    const effects: string[] = [];
    const store = new InMemoryExecutionLog();
    const task = consumer({
      name: 'durable-slow',
      connectors: { input: new MemoryConnector<Order>() },
      policies: {
        consumer: new ConsumerPolicy({
          retry: { process: new RetryPolicy({ maxAttempts: 10, timeout: '100ms' }) },
        }),
      },
      processTransaction: durable(ledgerFlow(effects), { store, pollInterval: '20ms' }),
    });
    const outcome = await processOne(task, { id: 'slow-1', payload: { n: 5, slowFirst: true } });
    expect(outcome).toMatchObject({ status: 'succeeded', result: { a: 6, b: 12 } });
    expect(outcome.attempts.process).toBeGreaterThan(1);
    expect(effects).toEqual(['slow-1:a', 'slow-1:b']);
  });

  it("a failed flow fails the transaction with the flow's error, the same on every delivery", async () => {
    const effects: string[] = [];
    const store = new InMemoryExecutionLog();
    const errors: string[] = [];
    const task = consumer({
      name: 'durable-bad',
      connectors: { input: new MemoryConnector<Order>() },
      processTransaction: durable(ledgerFlow(effects), { store }),
      handleException: (_tx: Transaction<Order>, error) =>
        void errors.push(`${error.name}: ${error.message}`),
    });
    for (let i = 0; i < 2; i++) {
      const outcome = await processOne(task, { id: 'bad-1', payload: { n: 9, bad: true } });
      expect(outcome).toMatchObject({ status: 'failed', failedStage: 'process' });
    }
    expect(errors).toEqual(['NonRetryableError: order 9 is bad', 'NonRetryableError: order 9 is bad']);
    expect(effects).toEqual(['bad-1:a']);
  });

  it("runs the flow's child flows in this process when given their types, and waits for a worker otherwise", async () => {
    const store = new InMemoryExecutionLog();
    const effects: string[] = [];
    const grandchild = flow('wrap', async (ctx, label: string) => ctx.run('wrap', () => `[${label}]`));
    const child = flow('label', async (ctx, n: number) => {
      const text = await ctx.run('print', () => {
        effects.push(`print:${n}`);
        return `label-${n}`;
      });
      await ctx.sleep('20ms');
      return ctx.child(grandchild, text);
    });
    const parent = flow('ship', async (ctx, order: Order) => {
      const label = await ctx.child(child, order.n);
      return { label };
    });
    const task = consumer({
      name: 'with-children',
      connectors: { input: new MemoryConnector<Order>() },
      processTransaction: durable(parent, { store, pollInterval: '10ms', flows: [child, grandchild] }),
    });
    const outcome = await processOne(task, { id: 'ship-1', payload: { n: 7 } });
    expect(outcome).toMatchObject({ status: 'succeeded', result: { label: '[label-7]' } });
    expect(effects).toEqual(['print:7']);
    const kids = (await store.listFlows({ limit: 10 })).flows.filter((f) => f.parentId !== undefined);
    expect(kids.map((f) => [f.type, f.status]).sort()).toEqual([
      ['label', 'completed'],
      ['wrap', 'completed'],
    ]);

    // Without the child's type the bridge leaves the child to workers: it is still pending when we give up.
    const waiting = consumer({
      name: 'without-children',
      connectors: { input: new MemoryConnector<Order>() },
      policies: {
        consumer: new ConsumerPolicy({
          retry: { process: new RetryPolicy({ maxAttempts: 1, timeout: '300ms' }) },
        }),
      },
      processTransaction: durable(parent, { store, pollInterval: '10ms' }),
    });
    const gaveUp = await processOne(waiting, { id: 'ship-2', payload: { n: 8 } });
    expect(gaveUp.status).toBe('failed');
    const pending = (await store.listFlows({ type: 'label', statuses: ['pending'], limit: 10 })).flows;
    expect(pending).toHaveLength(1);
  });
});
