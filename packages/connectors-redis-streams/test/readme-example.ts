import { createTransaction } from '@ergon/core';
import { flow } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { ConsumerPolicy, durable, hybrid, producer, runTask } from '@ergon/tasks';
import { createRedisStreamsConnector } from '../src/index.js';

interface Order {
  id: string;
  amount: number;
}
interface Receipt {
  orderId: string;
  paymentId: string;
}

const url = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.SHOP_STREAMS ?? 'shop';
const orders = createRedisStreamsConnector<Order>({ url, stream: `${prefix}:orders` });
const receipts = createRedisStreamsConnector<Receipt>({ url, stream: `${prefix}:receipts` });
const store = await SqliteExecutionLog.open({ path: process.env.SHOP_DB ?? 'shop.db' });

// Stand-ins for the outside world: each takes an idempotency key.
const pay = async (order: Order, key: string) => `pay-${order.id}-${key.length}`;
const reserveStock = async (_order: Order, _key: string) => undefined;

// 1. A producer puts orders on the stream: XADD, resolved once Redis holds them all.
export const intake = producer({
  name: 'order-intake',
  connectors: { output: orders },
  items: (): Order[] => [
    { id: 'order-1', amount: 25 },
    { id: 'order-2', amount: 40 },
  ],
  prepareTransaction: (order) => createTransaction({ id: order.id, payload: order }),
});

// 2. Each order runs as a durable flow whose id is the transaction id: an
//    order redelivered after a crash resumes after its last finished step.
const fulfil = flow('fulfil-order', async (ctx, order: Order) => {
  const paymentId = await ctx.run('pay', (s) => pay(order, s.idempotencyKey));
  await ctx.run('reserve-stock', (s) => reserveStock(order, s.idempotencyKey));
  return [{ orderId: order.id, paymentId }];
});

// 3. A hybrid task reads the orders through a consumer group (XREADGROUP),
//    runs the flow, dispatches its receipts to the next stream, then acks.
export const fulfilment = hybrid({
  name: 'fulfilment',
  connectors: { input: orders, output: receipts },
  policies: { consumer: new ConsumerPolicy({ mode: 'batch', concurrency: 8 }) },
  processTransaction: durable(fulfil, { store }),
});

await runTask(intake);
const summary = await runTask(fulfilment); // batch mode: ends once the stream is drained
console.log(`${summary.succeeded} orders fulfilled`);
await store.close();
