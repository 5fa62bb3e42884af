/**
 * The demo's pipeline, as `@ergon/tasks` tasks on a JSON-lines file:
 *
 * - `orderFeed`, a producer: orders arrive in bursts and are appended to
 *   `orders.jsonl` as transactions (id = order id, trace context included).
 * - `orderIntake`, a consumer run by every worker process: it claims lines
 *   of that file and processes each transaction as the durable flow
 *   `process-order` whose id is the transaction id. A transaction whose
 *   worker died is delivered to another worker, whose flow resumes after its
 *   last finished step; a finished one returns its recorded result.
 *
 * The `ergon` CLI can load them too:
 * `ergon task process apps/demo/dist/tasks.js --export orderIntake --id order-007`.
 *
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises';
import { createJsonLinesConnector } from '@ergon/connectors-file';
import { createTransaction, RetryPolicy, runtimeStore, type Transaction } from '@ergon/core';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { ConsumerPolicy, consumer, durable, ProducerPolicy, producer } from '@ergon/tasks';
import { dbPath, orderCount, ordersPath } from './config.js';
import { processOrder, shipOrder } from './flows.js';
import { makeOrders, type Order } from './orders.js';

/** The flows' store, shared by the tasks of this process (in the runtime wrapper every engine part uses). */
export const store = runtimeStore(await SqliteExecutionLog.open({ path: dbPath }));

/** Orders per burst, and the pause between bursts. */
const BURST = 5;
const BURST_PAUSE_MS = 150;

async function* arriving(orders: readonly Order[]): AsyncGenerator<Order> {
  for (const [i, order] of orders.entries()) {
    if (i > 0 && i % BURST === 0) await delay(BURST_PAUSE_MS);
    yield order;
  }
}

/** Appends the demo's orders to `orders.jsonl`, a burst at a time. */
export const orderFeed = producer({
  name: 'order-feed',
  connectors: { output: createJsonLinesConnector<Order>({ path: ordersPath }) },
  policies: { producer: new ProducerPolicy({ batchSize: BURST, concurrency: 1 }) },
  items: () => arriving(makeOrders(orderCount)),
  prepareTransaction: (order: Order) => createTransaction({ id: order.id, payload: order }),
});

/** Transactions this process has started processing: the worker tells the demo's main process. */
export const intakeStarted = new EventTarget();

const processAsFlow = durable(processOrder, {
  store,
  lease: '2s',
  pollInterval: '100ms',
  flows: [shipOrder],
});

/** Processes every order in `orders.jsonl` as a durable flow, until stopped. */
export const orderIntake = consumer({
  name: 'order-intake',
  connectors: {
    // follow: orders keep arriving; claims of a worker that died are taken over at once.
    input: createJsonLinesConnector<Order>({ path: ordersPath, follow: true, claimTimeout: '10s' }),
  },
  policies: {
    consumer: new ConsumerPolicy({
      mode: 'continuous',
      concurrency: 8,
      batchSize: 4,
      emptyQueue: { initialDelay: '50ms', maxDelay: '250ms' },
      // The flow retries its own steps; a failed flow fails the same way on every delivery.
      retry: { process: RetryPolicy.NONE },
    }),
  },
  processTransaction: (transaction: Transaction<Order>, ctx: { readonly signal: AbortSignal }) => {
    intakeStarted.dispatchEvent(new CustomEvent('start', { detail: transaction.id }));
    return processAsFlow.run(transaction, ctx);
  },
});
