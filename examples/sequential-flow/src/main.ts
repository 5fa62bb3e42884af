// A sequential flow: three steps, each checkpointed in the flow's history.
// The flow is scheduled by id, run by a worker, and read back with its history;
// scheduling the same id again returns the same flow (idempotent), and its
// result is read from the store without running anything.
import { mkdirSync, rmSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NonRetryableError, RetryPolicy } from '@ergon/core';
import { Client, flow, type StepScope, step, Worker } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';

interface Order {
  readonly id: string;
  readonly items: readonly string[];
  readonly cents: number;
}

// A step is a named, reusable unit of work. Its result is recorded once; a
// replay of the flow returns the recorded result without running it again.
const validate = step('validate', (order: Order) => {
  if (order.items.length === 0) throw new NonRetryableError(`order ${order.id} has no items`);
  return { lines: order.items.length };
});

// The scope gives every attempt a stable idempotency key (`flowId/key`) to hand
// to the payment provider, so a retried or resumed charge is charged once.
const charge = step(
  'charge',
  async (order: Order, scope: StepScope) => ({ chargeId: `ch_${scope.idempotencyKey}`, cents: order.cents }),
  { retry: RetryPolicy.STANDARD, timeout: '10s' },
);

const ship = step('ship', async (order: Order, chargeId: string) => `label-${order.id}-${chargeId.length}`);

export const processOrder = flow('process-order', async (ctx, order: Order) => {
  const { lines } = await ctx.step(validate, order);
  const { chargeId } = await ctx.step(charge, order);
  const label = await ctx.step(ship, order, chargeId);
  return { lines, chargeId, label };
});

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const path = fileURLToPath(new URL('flows.db', dir));

const store = await SqliteExecutionLog.open({ path });
const worker = new Worker({ store, flows: [processOrder] }).start();
const client = new Client({ store });

const order: Order = { id: 'order-1', items: ['book', 'lamp'], cents: 4_250 };
const handle = await client.schedule(processOrder, order, { flowId: order.id });
const result = await handle.result(); // typed: { lines: number; chargeId: string; label: string }
console.log(`result of ${handle.id}:`, JSON.stringify(result));

const info = await client.get(order.id);
console.log(`status: ${info.status}`);
for (const entry of info.history) {
  console.log(`  ${entry.position}  ${entry.key.padEnd(10)} ${entry.status}  attempts=${entry.attempts}`);
}

// Scheduling an id that exists returns the existing flow: never a second one.
const again = await client.schedule(processOrder, order, { flowId: order.id });
console.log(
  `scheduled ${order.id} again: created=${again.created}, result=${JSON.stringify(await again.result())}`,
);

await worker.stop();
await store.close();
const root = fileURLToPath(new URL('../../../', import.meta.url));
console.log(`inspect it: npm run ergon -- --store sqlite:${relative(root, path)} flows show ${order.id}`);
