// The class form beside the functional form: one engine, two ways to write a
// flow. In the class form (the seed's `#[flow]`/`#[step]`), the instance's
// fields are the flow's input, `@Flow()` marks the body and `@Step()` marks
// durable steps: `this.chargePayment()` inside the flow is recorded once and
// replayed afterwards. Standard decorators: no `experimentalDecorators`.
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RetryPolicy } from '@ergon/core';
import {
  Client,
  Executor,
  Flow,
  flow,
  flowClassWithEntry,
  flowContext,
  Step,
  step,
  Worker,
} from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';

// --- The seed's Quick Start, ported line by line ---------------------------
class OrderFlow {
  constructor(
    public orderId: string,
    public amount: number,
  ) {}

  @Flow()
  async process(): Promise<string> {
    await this.chargePayment();
    await this.shipOrder();
    // Timers, signals and children are on the flow context in either form.
    await flowContext().sleep('50ms');
    return `Order ${this.orderId} complete`;
  }

  @Step({ retry: RetryPolicy.STANDARD, timeout: '10s' })
  async chargePayment(): Promise<string> {
    return `payment_confirmed ${this.amount}`;
  }

  @Step()
  async shipOrder(): Promise<string> {
    return 'shipped';
  }
}

// --- The same flow in the functional form -----------------------------------
interface Order {
  readonly orderId: string;
  readonly amount: number;
}
const chargePayment = step('chargePayment', (order: Order) => `payment_confirmed ${order.amount}`, {
  retry: RetryPolicy.STANDARD,
  timeout: '10s',
});
const shipOrder = step('shipOrder', (_order: Order) => 'shipped');
export const processOrder = flow('process-order', async (ctx, order: Order) => {
  await ctx.step(chargePayment, order);
  await ctx.step(shipOrder, order);
  await ctx.sleep('50ms');
  return `Order ${order.orderId} complete`;
});

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const store = await SqliteExecutionLog.open({ path: fileURLToPath(new URL('orders.db', dir)) });

// The seed's `Executor::new(id, flow, storage).execute(|f| f.process())`: runs in this process, now.
const executor = new Executor('ORDER-123', new OrderFlow('ORDER-123', 99.99), store);
const first = await executor.execute((f: OrderFlow) => f.process());
console.log(`class form, executor: ${first.status}`); // suspended: the flow sleeps on a durable timer

// A worker resumes it when the timer is due; it registers the class with the same entry.
const orderFlow = flowClassWithEntry(OrderFlow, (f) => f.process());
const worker = new Worker({ store, flows: [orderFlow, processOrder] }).start();
const client = new Client({ store });
console.log(`class form, resumed by a worker: ${await client.result('ORDER-123')}`);

// The class form schedules like any definition; input is an instance.
const viaClass = await client.schedule(orderFlow, new OrderFlow('ORDER-124', 12.5), { flowId: 'ORDER-124' });
const viaFunction = await client.schedule(
  processOrder,
  { orderId: 'ORDER-125', amount: 12.5 },
  { flowId: 'ORDER-125' },
);
console.log(`class form, scheduled:      ${await viaClass.result()}`);
console.log(`functional form, scheduled: ${await viaFunction.result()}`);

// Both record the same history.
const keys = async (id: string) => (await client.get(id)).history.map((h) => h.key).join(' → ');
console.log(`history of ORDER-124: ${await keys('ORDER-124')}`);
console.log(`history of ORDER-125: ${await keys('ORDER-125')}`);

await worker.stop();
await store.close();
