// The seed's Quick Start (OrderFlow), ported line by line to the class form.
import { InMemoryExecutionLog, uuidv7 } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { Executor, Flow, Step } from '../src/index.js';

// 1. Define your workflow
class OrderFlow {
  constructor(
    public orderId: string,
    public amount: number,
  ) {}

  // 2. Implement your business logic with @Flow() and @Step()
  @Flow()
  async process(): Promise<string> {
    const _payment = await this.chargePayment();
    const _shipping = await this.shipOrder();
    return `Order ${this.orderId} complete`;
  }

  @Step()
  async chargePayment(): Promise<string> {
    // Payment logic here
    return 'payment_confirmed';
  }

  @Step()
  async shipOrder(): Promise<string> {
    // Shipping logic here
    return 'shipped';
  }
}

describe('seed Quick Start', () => {
  it('runs OrderFlow and returns the same result as the seed', async () => {
    // 3. Setup storage
    const storage = new InMemoryExecutionLog();

    // 4. Create and execute the flow
    const flow = new OrderFlow('ORDER-123', 99.99);

    const executor = new Executor(uuidv7(), flow, storage);

    const outcome = await executor.execute((f: OrderFlow) => f.process());
    let printed = '';
    switch (outcome.status) {
      case 'completed':
        printed = `Success: ${outcome.result}`;
        break;
      case 'failed':
        printed = `Flow failed: ${outcome.error.message}`;
        break;
      case 'suspended':
        printed = `Flow suspended: ${JSON.stringify(outcome.waits)}`;
        break;
      default:
        printed = outcome.status;
    }
    expect(printed).toBe('Success: Order ORDER-123 complete');

    // The steps went through the durable machinery: they are in the history.
    const [record] = (await storage.listFlows({ limit: 50 })).flows;
    const history = await storage.getHistory(record?.id ?? '');
    expect(history.map((h) => [h.key, h.kind, h.status])).toEqual([
      ['chargePayment#0', 'step', 'completed'],
      ['shipOrder#0', 'step', 'completed'],
    ]);
    expect(record?.type).toBe('OrderFlow');
    expect(record?.status).toBe('completed');
  });

  it('calls step methods plainly outside a flow', async () => {
    expect(await new OrderFlow('x', 1).chargePayment()).toBe('payment_confirmed');
  });
});
