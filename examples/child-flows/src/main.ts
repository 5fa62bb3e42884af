// Child flows: a parent flow fans out one child flow per item and fans their
// results back in. Each child is a flow of its own (its own history, retries
// and status), run by any worker; its id is derived from the parent's id and
// the call's position, so a replayed parent never starts a second child.
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NonRetryableError } from '@ergon/core';
import { ChildFlowFailedError, Client, flow, Worker } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';

interface Parcel {
  readonly sku: string;
  readonly grams: number;
}

// The child: ships one parcel. A parcel over 20 kg is refused (for good: no
// retry can make it lighter).
export const shipParcel = flow('ship-parcel', async (ctx, parcel: Parcel) => {
  const label = await ctx.run('print-label', () => {
    if (parcel.grams > 20_000) throw new NonRetryableError(`${parcel.sku} is over 20 kg`);
    return `label-${parcel.sku}`;
  });
  const tracking = await ctx.run('book-carrier', () => `TRK-${parcel.sku.toUpperCase()}`);
  return { sku: parcel.sku, label, tracking };
});

// The parent: one child per parcel, all at once (Promise.all), then a summary.
export const shipOrder = flow('ship-order', async (ctx, parcels: readonly Parcel[]) => {
  const shipped = await Promise.all(parcels.map((parcel) => ctx.child(shipParcel, parcel)));
  const totalGrams = parcels.reduce((sum, p) => sum + p.grams, 0);
  return { parcels: shipped.length, totalGrams, tracking: shipped.map((s) => s.tracking) };
});

// A parent that handles a child's failure: the child's error arrives as
// ChildFlowFailedError (recorded, so every replay takes the same path).
export const shipOrCancel = flow('ship-or-cancel', async (ctx, parcels: readonly Parcel[]) => {
  try {
    return { shipped: await Promise.all(parcels.map((parcel) => ctx.child(shipParcel, parcel))) };
  } catch (error) {
    if (error instanceof ChildFlowFailedError) return { cancelled: `${error.childId} ${error.status}` };
    throw error;
  }
});

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const store = await SqliteExecutionLog.open({ path: fileURLToPath(new URL('flows.db', dir)) });
// The worker must know the child's type too (or another worker must).
const worker = new Worker({ store, flows: [shipOrder, shipOrCancel, shipParcel], concurrency: 8 }).start();
const client = new Client({ store });

const parcels: Parcel[] = [
  { sku: 'a1', grams: 1_200 },
  { sku: 'b2', grams: 800 },
  { sku: 'c3', grams: 15_000 },
  { sku: 'd4', grams: 300 },
];
const order = await client.schedule(shipOrder, parcels, { flowId: 'order-42' });
const summary = await order.result();
console.log(
  `order-42 shipped ${summary.parcels} parcels, ${summary.totalGrams} g: ${summary.tracking.join(' ')}`,
);

const children = await client.list({ type: 'ship-parcel' });
for (const child of [...children.flows].sort((a, b) => a.id.localeCompare(b.id))) {
  console.log(`  child ${child.id.padEnd(12)} parent ${child.parentId}  ${child.status}`);
}

// Scheduling the parent again returns the finished flow: no new children.
await client.schedule(shipOrder, parcels, { flowId: 'order-42' });
const after = await client.list({ type: 'ship-parcel' });
console.log(`children after scheduling order-42 again: ${after.flows.length}`);

const heavy = await client.schedule(
  shipOrCancel,
  [
    { sku: 'e5', grams: 500 },
    { sku: 'f6', grams: 25_000 },
  ],
  {
    flowId: 'order-43',
  },
);
console.log(`order-43: ${JSON.stringify(await heavy.result())}`);

await worker.stop();
await store.close();
