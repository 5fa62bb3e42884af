// N one-step flows on the in-memory store through one Worker (concurrency C), scheduled in batches of
// 400 (its claim scans every flow): µs of wall time and CPU per flow, executor and core alone.
//   node [--cpu-prof --cpu-prof-dir DIR] bench/mem-prof.mjs [N] [C] [steps]
import { InMemoryExecutionLog } from '@ergon/core';
import { Client, flow, Worker } from '../dist/index.js';

const n = Number(process.argv[2] ?? 20000);
const concurrency = Number(process.argv[3] ?? 50);
const steps = Number(process.argv[4] ?? 1);
const f = flow('mem', async (ctx, x) => {
  let v = x;
  for (let i = 0; i < steps; i++) v = await ctx.run(`s${i}`, () => v + 1);
  return v;
});
// The in-memory store's claim scans every flow: batches of 400 keep its backlog (and its cost) small.
const BATCH = 400;
async function round(count) {
  const store = new InMemoryExecutionLog();
  const client = new Client({ store });
  const worker = new Worker({ store, flows: [f], concurrency, pollInterval: '1s' });
  await worker.start();
  let done = 0;
  let target = 0;
  let resolve;
  const unsub = store.subscribe((e) => {
    if (e.type === 'finished' && ++done === target) resolve();
  });
  let ms = 0;
  let cpu = 0;
  for (let at = 0; at < count; at += BATCH) {
    const all = new Promise((r) => (resolve = r));
    target += BATCH;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < BATCH; i++) void client.schedule(f, i);
    await all;
    ms += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpu += c.user + c.system;
  }
  await worker.stop();
  unsub();
  return { perFlowUs: (ms * 1000) / count, cpuUs: cpu / count };
}
await round(2000);
const r = await round(n);
console.log(`${n} flows × ${steps} steps, concurrency ${concurrency}: ${r.perFlowUs.toFixed(1)} µs/flow wall, ${r.cpuUs.toFixed(1)} µs/flow CPU`);
