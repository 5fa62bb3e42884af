// Compile-time checks (run by `tsc`): payload, result and dependency types
// flow from the declaration without annotations on the context.
import { type Connector, InMemoryExecutionLog, type Service, type Transaction } from '@ergon/core';
import { flow } from '@ergon/executor';
import { describe, expect, it } from 'vitest';
import { consumer, durable, hybrid, processOne, producer, type Task } from '../src/index.js';

interface Order {
  id: string;
  total: number;
}
const input = {} as Connector<Order>;
const output = {} as Connector<{ total: number }>;
const geo = {} as Service & { locate(id: string): Promise<number> };

function definitions() {
  const orders = consumer({
    name: 'orders',
    connectors: { input },
    services: { geo },
    policies: { limits: { max: 3 } },
    processTransaction: async (tx: Transaction<Order>, ctx) => {
      const at: number = await ctx.services.geo.locate(tx.payload.id);
      const max: number = ctx.policies.limits.max;
      // @ts-expect-error: undeclared service
      ctx.services.mail;
      return { at, max };
    },
    handleSuccess: (tx, result) => {
      const sum: number = result.at + result.max + tx.payload.total;
      return sum;
    },
    handleException: (_tx, error) => (error.message === 'retry' ? 'requeue' : undefined),
  });
  const copy = hybrid({
    name: 'copy',
    connectors: { input, output },
    processTransaction: (tx: Transaction<Order>) => [{ total: tx.payload.total }],
    handleSuccess: (_tx, produced) => produced.map((p) => p.payload.total),
  });
  const make = producer({
    name: 'make',
    connectors: { output },
    items: () => [1, 2, 3],
    prepareTransaction: (n: number) => ({ total: n }),
    handleException: (item) => item.toFixed(),
  });
  const ordersFlow = flow('orders-flow', async (_ctx, order: Order) => order.total * 2);
  const durableOrders = consumer({
    name: 'durable-orders',
    connectors: { input },
    processTransaction: durable(ordersFlow, { store: new InMemoryExecutionLog() }),
    handleSuccess: (tx, doubled) => {
      const check: number = doubled + tx.payload.total;
      return check;
    },
  });
  const all: Task[] = [orders, copy, make, durableOrders];
  void processOne(orders, { payload: { id: 'o1', total: 2 } });
  // @ts-expect-error: the payload must be an Order
  void processOne(orders, { payload: { id: 1 } });
  return all;
}

describe('types', () => {
  it('compile (checked by tsc)', () => {
    expect(typeof definitions).toBe('function');
  });
});
