// K worker processes draining N pre-created one-step flows on Redis or SQLite (like apps/bench's
// throughput rows), reporting per-process CPU per flow and claim/apply call counts.
//   node bench/multi.mjs [--store redis|sqlite] [--flows 10000] [--processes 2] [--concurrency 50] [--prof DIR]
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runtimeStore } from '@ergon/core';
import { Client, flow, Worker } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'redis' },
    flows: { type: 'string', default: '10000' },
    processes: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '50' },
    role: { type: 'string', default: 'main' },
    at: { type: 'string' },
    prof: { type: 'string' },
  },
});
const f = flow('multi', async (ctx, n) => ctx.run('a', () => n));

async function open(at) {
  if (args.store === 'sqlite') {
    const { SqliteExecutionLog } = await import('@ergon/storage-sqlite');
    return SqliteExecutionLog.open({ path: at });
  }
  const { RedisExecutionLog } = await import('@ergon/storage-redis');
  return RedisExecutionLog.open({ url: 'redis://127.0.0.1:6379', prefix: at });
}

if (args.role === 'worker') {
  const net = await import('node:net');
  const w0 = net.Socket.prototype.write; globalThis.wstat = { n: 0, bytes: 0, big: 0, strings: 0 };
  net.Socket.prototype.write = function (d, ...r) { const st = globalThis.wstat; if (st.on) { st.n++; const len = typeof d === 'string' ? d.length : d.length; st.bytes += len; if (typeof d === 'string') st.strings++; if (len > 16384) st.big++; } return w0.call(this, d, ...r); };
  const raw = await open(args.at);
  const counts = { claim: 0, claimed: 0, apply: 0, applied: 0, create: 0 };
  const claim = raw.claim.bind(raw);
  raw.claim = async (r) => { counts.claim++; const c = await claim(r); counts.claimed += c.length; return c; };
  if (raw.applyWrites) { const a = raw.applyWrites.bind(raw); raw.applyWrites = (w) => { counts.apply++; counts.applied += w.length; return a(w); }; }
  const store = runtimeStore(raw, { coalesce: true });
  let done = 0;
  const worker = new Worker({ store, flows: [f], concurrency: Number(args.concurrency), onOutcome: () => { done++; } });
  process.send({ type: 'ready' });
  process.on('message', async (m) => {
    if (m.type === 'go') {
      if (args.prof) { const { Session } = await import('node:inspector/promises'); globalThis.session = new Session(); globalThis.session.connect(); if (process.env.HEAP) { await globalThis.session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }); } else { await globalThis.session.post('Profiler.enable'); await globalThis.session.post('Profiler.start'); } }
      globalThis.cpu0 = process.cpuUsage(); globalThis.wstat.on = true; worker.start();
    }
    if (m.type === 'stop') {
      const used = process.cpuUsage(globalThis.cpu0);
      if (args.prof && process.env.HEAP) { const { profile } = await globalThis.session.post('HeapProfiler.stopSampling'); (await import('node:fs')).writeFileSync(`${args.prof}/w-${process.pid}.heapprofile`, JSON.stringify(profile)); } else if (args.prof) { const { profile } = await globalThis.session.post('Profiler.stop'); (await import('node:fs')).writeFileSync(`${args.prof}/w-${process.pid}.cpuprofile`, JSON.stringify(profile)); }
      await worker.stop();
      await raw.close();
      process.send({ type: 'final', done, cpuUs: used.user + used.system, counts, wstat: globalThis.wstat });
      setTimeout(() => process.exit(0), 50);
    }
  });
  setInterval(() => process.send({ type: 'progress', done }), 20).unref();
} else {
  const N = Number(args.flows);
  const dir = mkdtempSync(join(tmpdir(), 'ergon-multi-'));
  const at = args.store === 'sqlite' ? join(dir, 'm.db') : `ergon-multi:${randomUUID()}`;
  const raw = await open(at);
  const client = new Client({ store: runtimeStore(raw, { coalesce: true }) });
  for (let i = 0; i < N; i += 500)
    await Promise.all(Array.from({ length: Math.min(500, N - i) }, (_, k) => client.schedule(f, i + k)));
  const P = Number(args.processes);
  const kids = [];
  const dones = new Array(P).fill(0);
  let allDone;
  const finished = new Promise((r) => (allDone = r));
  let t0;
  for (let i = 0; i < P; i++) {
    const kid = fork(new URL(import.meta.url).pathname, ['--role', 'worker', '--at', at, '--store', args.store, '--concurrency', args.concurrency, ...(args.prof ? ['--prof', args.prof] : [])]);
    kids.push(kid);
    kid.on('message', (m) => {
      if (m.type === 'progress') { dones[i] = m.done; if (dones.reduce((a, b) => a + b, 0) >= N && !allDone.fired) { allDone.fired = true; allDone(performance.now()); } }
    });
  }
  await Promise.all(kids.map((k) => new Promise((r) => k.once('message', r))));
  t0 = performance.now();
  for (const k of kids) k.send({ type: 'go' });
  const t1 = await finished;
  const finals = await Promise.all(kids.map((k) => new Promise((r) => { k.on('message', (m) => m.type === 'final' && r(m)); k.send({ type: 'stop' }); })));
  const cpu = finals.reduce((a, m) => a + m.cpuUs, 0);
  console.log(`${args.store} ${P}×${args.concurrency}: ${N} flows in ${(t1 - t0).toFixed(0)} ms = ${Math.round(N / (t1 - t0) * 1000)} flows/s; worker CPU ${Math.round(cpu / N)} µs/flow`);
  for (const m of finals) console.log('  ', JSON.stringify(m.counts), JSON.stringify(m.wstat), 'done', m.done, 'cpu µs/flow', Math.round(m.cpuUs / m.done));
  await raw.close();
  if (args.store === 'redis') {
    const { Redis } = await import('ioredis');
    const admin = new Redis('redis://127.0.0.1:6379');
    let cursor = '0';
    do { const [next, keys] = await admin.scan(cursor, 'MATCH', `{${at}*`, 'COUNT', 1000); cursor = next; if (keys.length) await admin.del(...keys); } while (cursor !== '0');
    admin.disconnect();
  }
  rmSync(dir, { recursive: true, force: true });
}
