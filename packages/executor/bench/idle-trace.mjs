// Where the idle enqueue → start latency goes on Redis: one worker (in this process, its own
// store connection), one flow at a time after an idle gap; per probe the times (ms after the
// schedule call) of createFlow's answer, the worker's 'ready' event, the claim sent and answered,
// and the step's start. Prints the medians. URL=redis://… picks the server (a private one lets
// SLOWLOG with slowlog-log-slower-than 0 show each script's time inside Redis).
import { runtimeStore } from '@ergon/core';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { Client, flow, Worker } from '../dist/index.js';

const prefix = `idle-trace-${process.pid}`;
const url = process.env.URL ?? 'redis://127.0.0.1:6379';
const marks = {};
const mark = (k) => {
  marks[k] ??= performance.now();
};
const probe = flow('probe', async (ctx, n) => ctx.run('a', () => (mark('step'), n)));
const raw = await RedisExecutionLog.open({ url, prefix });
const subscribe = raw.subscribe.bind(raw);
raw.subscribe = (fn) => subscribe((e) => (e.type === 'ready' && mark('event'), fn(e)));
const claim = raw.claim.bind(raw);
raw.claim = async (r) => {
  const t = performance.now();
  const c = await claim(r);
  if (c.length > 0) {
    marks.claimSent ??= t;
    mark('claimed');
  }
  return c;
};
const worker = new Worker({ store: runtimeStore(raw, { coalesce: true }), flows: [probe], concurrency: 50 });
worker.start();
const clientStore = await RedisExecutionLog.open({ url, prefix });
const calls = [];
for (const m of ['createFlow', 'getFlow', 'createFlows', 'sendSignal']) {
  const f = clientStore[m]?.bind(clientStore);
  if (f)
    clientStore[m] = async (...a) => {
      const t = performance.now();
      try {
        return await f(...a);
      } finally {
        calls.push(`${m} ${(performance.now() - t).toFixed(3)}`);
      }
    };
}

const client = new Client({ store: clientStore });
const rows = [];
for (let i = 0; i < 60; i++) {
  await new Promise((r) => setTimeout(r, 50 + Math.random() * 50));
  for (const k of Object.keys(marks)) delete marks[k];
  const t0 = performance.now();
  await client.schedule(probe, i);
  const created = performance.now();
  while (marks.step === undefined) await new Promise((r) => setImmediate(r));
  if (i >= 10)
    rows.push({
      created: created - t0,
      ...Object.fromEntries(Object.entries(marks).map(([k, v]) => [k, v - t0])),
    });
}
const median = (k) => {
  const v = rows
    .map((r) => r[k])
    .filter((x) => x !== undefined)
    .sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)].toFixed(3) : '—';
};
for (const k of ['created', 'event', 'claimSent', 'claimed', 'step'])
  console.log(k.padEnd(10), median(k), 'ms');
console.log('client store calls of the last probes (ms):', calls.slice(-5).join(', '));
await worker.stop();
await raw.close();
await clientStore.close();
