// A parallel DAG inside a durable flow: three independent checks start at
// once, a decision waits for all three. Each node is a durable step (recorded,
// retried by its own policy, replayed from history after a crash), and each
// starts the moment its own dependencies finish, not in waves.
import { mkdirSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { RetryPolicy } from '@ergon/core';
import { Client, flow, Worker } from '@ergon/executor';
import { graph, renderAscii, toMermaid } from '@ergon/graph';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';

interface Order {
  readonly id: string;
  readonly userId: string;
  readonly items: readonly string[];
  readonly cents: number;
}

// Each check takes 300 ms; run one after another they would take 900 ms.
const checkout = graph<Order>('checkout')
  .node('validateUser', async (_deps, order) => {
    await sleep(300);
    return { ok: order.userId !== '' };
  })
  .node('checkInventory', async (_deps, order) => {
    await sleep(300);
    return order.items.length;
  })
  .node('checkFraud', { retry: RetryPolicy.STANDARD, timeout: '5s' }, async (_deps, order, ctx) => {
    await sleep(300, undefined, { signal: ctx.signal });
    return order.cents > 100_000 ? 0.9 : 0.1;
  })
  .node(
    'finalize',
    { deps: ['validateUser', 'checkInventory', 'checkFraud'] },
    async (deps) =>
      // deps is typed from the nodes above: { validateUser: { ok: boolean }, checkInventory: number, checkFraud: number }
      deps.validateUser.ok && deps.checkInventory > 0 && deps.checkFraud < 0.5,
  )
  .build();

export const checkoutFlow = flow('checkout', async (ctx, order: Order) => {
  const dag = await ctx.dag(checkout, order, { maxParallel: 4 });
  if (dag.status !== 'completed') throw new Error(`checks failed: ${Object.keys(dag.failed).join(', ')}`);
  return { approved: dag.outputs.finalize, statuses: dag.statuses };
});

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const store = await SqliteExecutionLog.open({ path: fileURLToPath(new URL('flows.db', dir)) });
const worker = new Worker({ store, flows: [checkoutFlow] }).start();
const client = new Client({ store });

const order: Order = { id: 'order-7', userId: 'ana', items: ['desk'], cents: 32_000 };
const handle = await client.schedule(checkoutFlow, order, { flowId: order.id });
const { approved, statuses } = await handle.result();
console.log(`order ${order.id} approved: ${approved}`);

// The history holds one record per node, with its timings: the three checks
// overlapped, and the decision started after the last of them finished.
const { history } = await client.get(order.id);
// Node keys are `<graph>.<node>#n`.
const checks = history.filter((h) => /^checkout\.(validateUser|checkInventory|checkFraud)#/.test(h.key));
const decision = history.find((h) => h.key.startsWith('checkout.finalize#'));
const firstEnd = Math.min(...checks.map((h) => h.finishedAt ?? Number.POSITIVE_INFINITY));
const lastStart = Math.max(...checks.map((h) => h.startedAt));
const lastEnd = Math.max(...checks.map((h) => h.finishedAt ?? 0));
for (const h of history)
  console.log(`  ${h.key.padEnd(28)} ${h.kind.padEnd(5)} ${h.status}  ${h.durationMs ?? '-'} ms`);
console.log(`the ${checks.length} checks ran in parallel: ${lastStart < firstEnd ? 'yes' : 'no'}`);
console.log(
  `finalize started after every check finished: ${decision && decision.startedAt >= lastEnd ? 'yes' : 'no'}`,
);

console.log(renderAscii(checkout, { status: statuses }));
console.log('Mermaid (paste into a Markdown ```mermaid block):');
console.log(toMermaid(checkout));

await worker.stop();
await store.close();
