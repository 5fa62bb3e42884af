// The same flow on SQLite or on Redis, switched by configuration alone:
//   npm run example -- switch-store                                       (SQLite)
//   ERGON_STORE=redis://127.0.0.1:6379 npm run example -- switch-store    (Redis)
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, flow, Worker } from '@ergon/executor';
import { openStore } from './store.js';

export const greet = flow('greet', async (ctx, name: string) => {
  const greeting = await ctx.run('compose', () => `hello, ${name}`);
  await ctx.sleep('200ms'); // a durable timer, kept in whichever store this is
  return ctx.run('deliver', () => `${greeting}!`);
});

const dir = new URL('../.ergon/', import.meta.url);
mkdirSync(dir, { recursive: true });
const url = process.env.ERGON_STORE ?? `sqlite:${fileURLToPath(new URL('flows.db', dir))}`;
const store = await openStore(url);
console.log(`store: ${store.constructor.name} (${url.replace(/\/\/[^@/]*@/, '//…@')})`);

const worker = new Worker({ store, flows: [greet] }).start();
const client = new Client({ store });
const flowId = `greet-${process.pid}-${Date.now()}`;
const handle = await client.schedule(greet, 'ana', { flowId });
console.log(`result: ${await handle.result()}`);
const info = await client.get(flowId);
console.log(`history: ${info.history.map((h) => `${h.key} ${h.status}`).join(', ')}`);

await worker.stop();
// Keep the example's store small: finished flows go (a worker's `retention` does this periodically).
await client.purge({ olderThan: 0 });
await store.close();
