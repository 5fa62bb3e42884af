// The three task kinds, chained through JSON-lines files (the embedded
// transport; a broker connector takes the same place):
//
//   producer "intake"     items → orders.jsonl
//   hybrid   "invoicing"  orders.jsonl → invoices.jsonl (one invoice per order, none for a refund)
//   consumer "mailer"     invoices.jsonl → "sent" (a poison invoice is dead-lettered)
//
// Every transaction goes through process → success handler | exception
// handler → ack | nack; acks and nacks are automatic.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createJsonLinesConnector } from '@ergon/connectors-file';
import { NonRetryableError, RetryPolicy, type Transaction } from '@ergon/core';
import { ConsumerPolicy, consumer, hybrid, ProducerPolicy, producer, runTask } from '@ergon/tasks';

interface Order {
  readonly id: string;
  readonly customer: string;
  readonly cents: number;
}
interface Invoice {
  readonly id: string;
  readonly orderId: string;
  readonly email: string;
  readonly cents: number;
}

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const file = (name: string) => fileURLToPath(new URL(name, dir));

// Stop at the first empty fetch (the default, `continuous`, runs until SIGINT/SIGTERM).
const batch = new ConsumerPolicy({ mode: 'batch', concurrency: 4 });

export const intake = producer({
  name: 'intake',
  connectors: { output: createJsonLinesConnector<Order>({ path: file('orders.jsonl') }) },
  policies: { producer: new ProducerPolicy({ batchSize: 3 }) },
  items: () => [
    { id: 'o-1', customer: 'ana', cents: 1_200 },
    { id: 'o-2', customer: 'ben', cents: -300 }, // a refund: no invoice
    { id: 'o-3', customer: 'carla', cents: 8_800 },
    { id: 'o-4', customer: 'mallory', cents: 500 }, // an address the mailer refuses
  ],
  prepareTransaction: (order) => order, // the payload; its `id` becomes the transaction id downstream
});

export const invoicing = hybrid({
  name: 'invoicing',
  connectors: {
    input: createJsonLinesConnector<Order>({ path: file('orders.jsonl') }),
    output: createJsonLinesConnector<Invoice>({ path: file('invoices.jsonl') }),
  },
  policies: { consumer: batch },
  processTransaction: (tx: Transaction<Order>) =>
    tx.payload.cents <= 0
      ? []
      : [
          {
            id: `inv-${tx.payload.id}`,
            orderId: tx.payload.id,
            email: `${tx.payload.customer}@example.com`,
            cents: tx.payload.cents,
          },
        ],
});

const sent: string[] = [];
export const mailer = consumer({
  name: 'mailer',
  connectors: { input: createJsonLinesConnector<Invoice>({ path: file('invoices.jsonl') }) },
  policies: {
    consumer: batch.with({ retry: { process: new RetryPolicy({ maxAttempts: 3, initialDelay: '10ms' }) } }),
  },
  processTransaction: (tx: Transaction<Invoice>) => {
    if (tx.payload.email.startsWith('mallory'))
      throw new NonRetryableError(`refused address ${tx.payload.email}`);
    return `mailed ${tx.payload.id} to ${tx.payload.email}`;
  },
  handleSuccess: (_tx, result) => {
    sent.push(result);
  },
  // Returning nothing applies the policy's onFailure (default: dead-letter).
  handleException: (tx, error) => {
    console.log(`  mailer: ${tx.id} failed (${error.message}); dead-lettered`);
  },
});

for (const task of [intake, invoicing, mailer]) {
  const summary = await runTask(task, { handleSignals: false });
  console.log(
    `${task.kind.padEnd(8)} ${task.name.padEnd(9)} processed ${summary.processed}, ` +
      `succeeded ${summary.succeeded}, failed ${summary.failed} (${summary.reason})`,
  );
}
for (const line of sent) console.log(`  ${line}`);

const invoices = readFileSync(file('invoices.jsonl'), 'utf8').trim().split('\n');
const dead = readFileSync(file('invoices.jsonl.dead-letter.jsonl'), 'utf8').trim().split('\n');
console.log(`invoices.jsonl holds ${invoices.length} invoices; the dead-letter file ${dead.length} record`);
console.log(`dead letter: ${JSON.stringify(JSON.parse(dead[0] ?? '{}').reason)}`);
