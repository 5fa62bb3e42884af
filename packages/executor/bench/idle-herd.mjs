// Flows created one at a time at a slow pace while K worker processes sit idle: per flow, the
// scripts Redis ran (INFO commandstats) and the CPU of Redis and of the workers, and the median
// enqueue → step start. With hand-off, one parked worker takes each flow; without (HAND_OFF=0,
// workers never park), every idle worker wakes on the ready event and claims.
//   URL=redis://127.0.0.1:6391 node bench/idle-herd.mjs [--processes 4] [--flows 300] [--gap 5]
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { Redis } from 'ioredis';
import { Client, flow, Worker } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    processes: { type: 'string', default: '4' },
    flows: { type: 'string', default: '300' },
    gap: { type: 'string', default: '5' },
    role: { type: 'string', default: 'main' },
    prefix: { type: 'string' },
  },
});
const url = process.env.URL ?? 'redis://127.0.0.1:6379';
const probe = flow('herd', async (ctx, n) => ctx.run('a', () => (process.send?.({ started: n, at: performance.timeOrigin + performance.now() }), n)));

if (args.role === 'worker') {
  const store = await RedisExecutionLog.open({ url, prefix: args.prefix });
  if (process.env.HAND_OFF === '0') Object.defineProperty(store, 'capabilities', { value: { ...store.capabilities, handOff: false } });
  const worker = new Worker({ store, flows: [probe], concurrency: 10 });
  worker.start();
  let c0;
  process.on('message', async (m) => {
    if (m === 'go') c0 = process.cpuUsage();
    if (m === 'stop') {
      const cpu = process.cpuUsage(c0);
      await worker.stop();
      await store.close();
      process.send({ cpuUs: cpu.user + cpu.system });
      setTimeout(() => process.exit(0), 20);
    }
  });
  process.send({ ready: true });
} else {
  const prefix = `herd-${randomUUID()}`;
  const redis = new Redis(url);
  const children = [];
  const started = new Map();
  for (let i = 0; i < Number(args.processes); i++) {
    const child = fork(new URL(import.meta.url), ['--role', 'worker', '--prefix', prefix], { env: process.env });
    await new Promise((r) => child.once('message', r));
    child.on('message', (m) => m.started !== undefined && started.set(m.started, m.at));
    children.push(child);
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const child of children) child.send('go');
  const store = await RedisExecutionLog.open({ url, prefix });
  const client = new Client({ store });
  const stats = async () => {
    const info = await redis.info('commandstats');
    const cpu = await redis.info('cpu');
    const calls = Object.fromEntries([...info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
    const used = [...cpu.matchAll(/used_cpu_(?:sys|user):([\d.]+)/g)].reduce((s, m) => s + Number(m[1]), 0);
    return { calls, used };
  };
  const n = Number(args.flows);
  const before = await stats();
  const lat = [];
  for (let i = 0; i < n; i++) {
    await new Promise((r) => setTimeout(r, Number(args.gap)));
    const t0 = performance.timeOrigin + performance.now();
    await client.schedule(probe, i);
    while (!started.has(i)) await new Promise((r) => setTimeout(r, 0));
    lat.push(started.get(i) - t0);
  }
  await new Promise((r) => setTimeout(r, 200));
  const after = await stats();
  const cpus = await Promise.all(children.map((c) => new Promise((r) => { c.on('message', (m) => m.cpuUs !== undefined && r(m.cpuUs)); c.send('stop'); })));
  lat.sort((a, b) => a - b);
  const per = (k) => ((after.calls[k] ?? 0) - (before.calls[k] ?? 0)) / n;
  // The commands the scripts ran (and the few sent directly), scripts and housekeeping excluded.
  const SKIP = new Set(['evalsha', 'eval', 'info', 'ping', 'subscribe', 'client', 'script', 'select', 'quit', 'config', 'hello']);
  const inner = Object.keys(after.calls).filter((k) => !SKIP.has(k)).reduce((sum, k) => sum + per(k), 0);
  console.log(
    `hand-off ${process.env.HAND_OFF === '0' ? 'off' : 'on '} ${args.processes} workers: p50 ${lat[n >> 1].toFixed(3)} ms; per flow: evalsha ${per('evalsha').toFixed(2)} (${inner.toFixed(1)} commands inside), ` +
      `redis CPU ${(((after.used - before.used) * 1e6) / n).toFixed(0)} µs, workers CPU ${(cpus.reduce((a, b) => a + b, 0) / n).toFixed(0)} µs`,
  );
  await store.close();
  const keys = await redis.keys(`{${prefix}}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
}
