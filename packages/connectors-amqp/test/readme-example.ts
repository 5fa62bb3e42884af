import { createAmqpConnector } from '../src/index.js';
import { createRedisStreamsConnector } from '@ergon/connectors-redis-streams';
import { flow } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { ConsumerPolicy, durable, hybrid, runTask } from '@ergon/tasks';

interface Order {
  readonly id: string;
  readonly amount: number;
}
interface Receipt {
  readonly orderId: string;
  readonly charged: number;
}

// Stand-ins for real side effects; each gets the step's idempotency key.
async function charge(order: Order, _key: string): Promise<number> {
  return order.amount;
}
async function ship(_order: Order, _key: string): Promise<void> {}

const store = await SqliteExecutionLog.open({ path: 'ergon.db' });

// Each order runs as a durable flow whose id is the message's message_id:
// a redelivered order resumes after its last finished step.
const fulfil = flow('fulfil-order', async (ctx, order: Order) => {
  const charged = await ctx.run('charge', (s) => charge(order, s.idempotencyKey));
  await ctx.run('ship', (s) => ship(order, s.idempotencyKey));
  const receipts: Receipt[] = [{ orderId: order.id, charged }];
  return receipts;
});

export const orders = hybrid({
  name: 'orders',
  connectors: {
    input: createAmqpConnector<Order>({
      url: 'amqp://guest:guest@127.0.0.1:5672',
      queue: 'orders',
      prefetch: 32,
    }),
    output: createRedisStreamsConnector<Receipt>({ url: 'redis://127.0.0.1:6379', stream: 'receipts' }),
  },
  policies: { consumer: new ConsumerPolicy({ concurrency: 16 }) },
  processTransaction: durable(fulfil, { store }),
});

// Until SIGINT or SIGTERM: in-flight orders drain, unacked ones go back to the queue.
await runTask(orders);
await store.close();
