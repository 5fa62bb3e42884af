import { createTransaction } from '@ergon/core';
import { ConsumerPolicy, hybrid, runTask } from '@ergon/tasks';
import { createPostgresOutbox, createPostgresQueue } from '../src/index.js';

interface OrderPlaced {
  orderId: string;
  total: number;
}

const url = process.env.ERGON_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = process.env.SHOP_SCHEMA ?? 'shop';
const outbox = createPostgresOutbox<OrderPlaced>({ url, schema }); // table "shop"."ergon_outbox"
// Where the relay sends the messages: any connector (AMQP, Redis Streams, …); here another queue table.
const events = createPostgresQueue<OrderPlaced>({ url, schema, table: 'order_events' });

await outbox.withTransaction((client) =>
  client.query(`CREATE TABLE IF NOT EXISTS "${schema}".orders (id text PRIMARY KEY, total numeric NOT NULL)`),
);

// 1. The business write and its outgoing message commit together, or neither does.
const order = { id: 'order-1', total: 25 };
await outbox.withTransaction(async (client) => {
  await client.query(`INSERT INTO "${schema}".orders (id, total) VALUES ($1, $2)`, [order.id, order.total]);
  const placed = createTransaction({
    id: `order-placed-${order.id}`,
    payload: { orderId: order.id, total: order.total },
  });
  await outbox.dispatchTransactions([placed], { client }); // inserted in this transaction; NOTIFY on COMMIT
});

// 2. The relay: a hybrid task that reads the outbox (SKIP LOCKED claims, woken by NOTIFY),
//    dispatches each row unchanged (same id, payload, metadata) to the other connector, then acks it.
//    In production: mode 'continuous' (the default), run until SIGTERM, as many processes as you like.
export const relay = hybrid({
  name: 'outbox-relay',
  connectors: { input: outbox, output: events },
  policies: { consumer: new ConsumerPolicy({ mode: 'batch', concurrency: 16 }) },
  processTransaction: (tx) => [tx],
});

const summary = await runTask(relay);
console.log(`${summary.succeeded} messages relayed`);
