import { createTransaction } from '@ergon/core';
import { flow } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { ConsumerPolicy, consumer, durable, runTask } from '@ergon/tasks';
import { createS3Connector } from '../src/index.js';

interface Invoice {
  id: string;
  amount: number;
}

// Credentials come from the SDK's usual chain (AWS_ACCESS_KEY_ID, a profile, an instance role).
const invoices = createS3Connector<Invoice>({
  bucket: process.env.INVOICE_BUCKET ?? 'invoices',
  endpoint: process.env.S3_ENDPOINT, // any S3-compatible server (MinIO, s3rver, …); without it, AWS S3
  prefix: process.env.INVOICE_PREFIX ?? 'incoming/', // objects under it are transactions; done ones go to incoming.done/
  createBucket: true,
});
const store = await SqliteExecutionLog.open({ path: process.env.SHOP_DB ?? 'shop.db' });

// A stand-in for the outside world: it takes an idempotency key.
const charge = async (invoice: Invoice, key: string) => `charge-${invoice.id}-${key.length}`;

// 1. Invoices arrive as objects (here written through the connector: one JSON object each, key = prefix + id).
await invoices.dispatchTransactions([
  createTransaction({ id: 'inv-1.json', payload: { id: 'inv-1', amount: 25 } }),
  createTransaction({ id: 'inv-2.json', payload: { id: 'inv-2', amount: 40 } }),
]);

// 2. Each object runs as a durable flow whose id is the object's key: an invoice
//    whose consumer died resumes after its last finished step, elsewhere.
const settle = flow('settle-invoice', async (ctx, invoice: Invoice) => {
  const chargeId = await ctx.run('charge', (s) => charge(invoice, s.idempotencyKey));
  return { invoice: invoice.id, chargeId };
});

// 3. A consumer task claims the objects (lease markers), runs the flow, then acks:
//    the object moves under incoming.done/. Batch mode ends once the prefix is empty.
export const settlement = consumer({
  name: 'invoice-settlement',
  connectors: { input: invoices },
  policies: { consumer: new ConsumerPolicy({ mode: 'batch', concurrency: 8 }) },
  processTransaction: durable(settle, { store }),
});

const summary = await runTask(settlement);
console.log(`${summary.succeeded} invoices settled`);
await store.close();
