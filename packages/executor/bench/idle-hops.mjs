// Where idle enqueue → step start goes on Redis, across processes as apps/bench measures it: the
// parent schedules one flow after an idle gap; a worker process (hand-off on) reports when the
// `handed`/`ready` event reached it and when the step started. Beside it the floor: a raw PUBLISH
// from the parent to a subscriber in the worker process, and a raw round trip (PING).
// Socket times split the hops further: `write` when the create left for Redis (the socket's
// write), `reply` when its answer's bytes reached the parent, `evData` when the event's bytes
// reached the worker (each the start of the handler that got them). Times are ms after
// `client.schedule` was called; the worker's are read on its own clock, so they carry the two
// processes' clock offset (usually a few µs; a run whose worker times are all off by ms had one).
//   node bench/idle-hops.mjs [--samples 200] [--gap 20]   URL=redis://… picks the server
import { fork } from 'node:child_process';
import { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

const { values: args } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    samples: { type: 'string', default: '200' },
    gap: { type: 'string', default: '20' },
    prefix: { type: 'string' },
  },
});
const url = process.env.URL ?? 'redis://127.0.0.1:6379';
const now = () => performance.timeOrigin + performance.now();
// The last time socket bytes reached a handler, and the first socket write since `writeAt = 0`.
let dataAt = 0;
let writeAt = 0;
const emit = Socket.prototype.emit;
Socket.prototype.emit = function (event, ...rest) {
  if (event === 'data') dataAt = now();
  return emit.call(this, event, ...rest);
};
for (const name of ['_writeGeneric', '_writev']) {
  const write = Socket.prototype[name];
  Socket.prototype[name] = function (...rest) {
    writeAt ||= now();
    return write.apply(this, rest);
  };
}

if (args.role === 'worker') {
  const { RedisExecutionLog } = await import('@ergon/storage-redis');
  const { Worker, flow } = await import('../dist/index.js');
  const probe = flow('idle-hops', async (ctx, n) => {
    process.send({ type: 'step', n, at: now() });
    return ctx.run('a', () => n);
  });
  const store = await RedisExecutionLog.open({ url, prefix: args.prefix });
  const subscribe = store.subscribe.bind(store);
  store.subscribe = (fn) =>
    subscribe((e) => {
      if (e.type === 'handed' || e.type === 'ready')
        process.send({ type: 'event', kind: e.type, at: now(), dataAt });
      return fn(e);
    });
  const sub = new Redis(url);
  await sub.subscribe(`${args.prefix}:raw`);
  sub.on('message', (_c, m) => process.send({ type: 'raw', n: Number(m), at: now() }));
  new Worker({ store, flows: [probe], concurrency: 50 }).start();
  process.send({ type: 'ready' });
} else {
  const { RedisExecutionLog } = await import('@ergon/storage-redis');
  const { Client, flow } = await import('../dist/index.js');
  const probe = flow('idle-hops', async (ctx, n) => ctx.run('a', () => n));
  const prefix = `idle-hops-${process.pid}`;
  const child = fork(new URL(import.meta.url).pathname, ['--role', 'worker', '--prefix', prefix]);
  const waiters = [];
  child.on('message', (m) => {
    for (const w of [...waiters]) if (w.match(m)) waiters.splice(waiters.indexOf(w), 1), w.resolve(m);
  });
  const wait = (match) => new Promise((resolve) => waiters.push({ match, resolve }));
  await wait((m) => m.type === 'ready');
  const store = await RedisExecutionLog.open({ url, prefix });
  let callAt = 0;
  let replyAt = 0;
  const createFlow = store.createFlow.bind(store);
  store.createFlow = (input) => {
    callAt = now();
    return createFlow(input).then((created) => {
      replyAt = dataAt;
      return created;
    });
  };
  const client = new Client({ store });
  const pub = new Redis(url);
  await pub.ping();
  const rows = {
    storeCall: [],
    write: [],
    reply: [],
    created: [],
    evData: [],
    event: [],
    step: [],
    rawPublish: [],
    rawPing: [],
  };
  const n = Number(args.samples);
  for (let i = 0; i < n + 5; i++) {
    await new Promise((r) => setTimeout(r, Number(args.gap) * (1 + Math.random())));
    const seen = wait((m) => m.type === 'step' && m.n === i);
    const event = wait((m) => m.type === 'event');
    writeAt = 0;
    const t0 = now();
    await client.schedule(probe, i);
    const t1 = now();
    const wrote = writeAt;
    const [s, e] = await Promise.all([seen, event]);
    await new Promise((r) => setTimeout(r, Number(args.gap) * (1 + Math.random())));
    const raw = wait((m) => m.type === 'raw' && m.n === i);
    const p0 = now();
    await pub.publish(`${prefix}:raw`, String(i));
    const r = await raw;
    await new Promise((r) => setTimeout(r, Number(args.gap) * (1 + Math.random())));
    const q0 = now();
    await pub.ping();
    const q1 = now();
    if (i < 5) continue;
    rows.storeCall.push(callAt - t0);
    rows.write.push(wrote - t0);
    rows.reply.push(replyAt - t0);
    rows.created.push(t1 - t0);
    rows.evData.push(e.dataAt - t0);
    rows.event.push(e.at - t0);
    rows.step.push(s.at - t0);
    rows.rawPublish.push(r.at - p0);
    rows.rawPing.push(q1 - q0);
  }
  const pct = (v, p) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) * p)];
  for (const [k, v] of Object.entries(rows))
    console.log(`${k.padEnd(11)} p50 ${pct(v, 0.5).toFixed(3)} ms  p90 ${pct(v, 0.9).toFixed(3)} ms`);
  child.kill();
  await store.close();
  const keys = await pub.keys(`${prefix}*`);
  if (keys.length > 0) await pub.del(...keys);
  pub.disconnect();
}
