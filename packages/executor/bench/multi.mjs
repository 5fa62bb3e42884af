// K worker processes draining N pre-created one-step flows on Redis, SQLite or PostgreSQL (like apps/bench's
// throughput rows), reporting per-process CPU per flow and claim/apply call counts.
//   node bench/multi.mjs [--store redis|sqlite|postgres] [--flows 10000] [--processes 2] [--concurrency 50]
//     [--sleep MS]   each flow sleeps until MS after scheduling, then runs its step (the timer wake path)
//     [--prof DIR]   a CPU profile of each worker from go to stop (HEAP=1: an allocation profile)
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
    // Timers: each flow sleeps until go + this many ms, then runs its step (the wake path).
    sleep: { type: 'string' },
    // Redis: the commands (INFO commandstats) run from go to stop, per flow.
    commands: { type: 'boolean', default: false },
  },
});
const f = flow('multi', async (ctx, n) => {
  if (typeof n === 'object') await ctx.sleepUntil(n.wakeAt);
  return ctx.run('a', () => n);
});

async function open(at) {
  if (args.store === 'sqlite') {
    const { SqliteExecutionLog } = await import('@ergon/storage-sqlite');
    return SqliteExecutionLog.open({ path: at });
  }
  if (args.store === 'postgres') {
    const { PostgresExecutionLog } = await import('@ergon/storage-postgres');
    return PostgresExecutionLog.open({
      url: process.env.URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      schema: at,
    });
  }
  const { RedisExecutionLog } = await import('@ergon/storage-redis');
  return RedisExecutionLog.open({ url: process.env.URL ?? 'redis://127.0.0.1:6379', prefix: at });
}

if (args.role === 'worker') {
  const raw = await open(args.at);
  const counts = { claim: 0, claimed: 0, apply: 0, applied: 0, create: 0 };
  const claim = raw.claim.bind(raw);
  globalThis.hist = {};
  raw.claim = async (r) => {
    globalThis.hist[`${r.limit}`] = (globalThis.hist[`${r.limit}`] ?? 0) + 1;
    counts.claim++;
    const c = await claim(r);
    counts.claimed += c.length;
    return c;
  };
  if (raw.applyWrites) {
    const a = raw.applyWrites.bind(raw);
    raw.applyWrites = (w) => {
      counts.apply++;
      counts.applied += w.length;
      return a(w);
    };
  }
  const store = runtimeStore(raw, { coalesce: true });
  let done = 0;
  const worker = new Worker({
    store,
    flows: [f],
    concurrency: Number(args.concurrency),
    onOutcome: (_id, outcome) => {
      if (outcome.status === 'completed') done++;
      else if (outcome.status === 'suspended') globalThis.suspended = (globalThis.suspended ?? 0) + 1;
    },
  });
  process.send({ type: 'ready' });
  process.on('message', async (m) => {
    if (m.type === 'go') {
      if (args.prof) {
        const { Session } = await import('node:inspector/promises');
        globalThis.session = new Session();
        globalThis.session.connect();
        if (process.env.HEAP) {
          await globalThis.session.post('HeapProfiler.startSampling', {
            samplingInterval: 4096,
            includeObjectsCollectedByMajorGC: true,
            includeObjectsCollectedByMinorGC: true,
          });
        } else {
          await globalThis.session.post('Profiler.enable');
          await globalThis.session.post('Profiler.start');
        }
      }
      globalThis.cpu0 = process.cpuUsage();
      worker.start();
    }
    if (m.type === 'stop') {
      const used = process.cpuUsage(globalThis.cpu0);
      if (args.prof && process.env.HEAP) {
        const { profile } = await globalThis.session.post('HeapProfiler.stopSampling');
        (await import('node:fs')).writeFileSync(
          `${args.prof}/w-${process.pid}.heapprofile`,
          JSON.stringify(profile),
        );
      } else if (args.prof) {
        const { profile } = await globalThis.session.post('Profiler.stop');
        (await import('node:fs')).writeFileSync(
          `${args.prof}/w-${process.pid}.cpuprofile`,
          JSON.stringify(profile),
        );
      }
      await worker.stop();
      await raw.close();
      process.send({ type: 'final', done, cpuUs: used.user + used.system, counts, claims: globalThis.hist });
      setTimeout(() => process.exit(0), 50);
    }
  });
  setInterval(() => process.send({ type: 'progress', done }), 20).unref();
} else {
  const N = Number(args.flows);
  const dir = mkdtempSync(join(tmpdir(), 'ergon-multi-'));
  const at =
    args.store === 'sqlite'
      ? join(dir, 'm.db')
      : args.store === 'postgres'
        ? `ergon_multi_${randomUUID().slice(0, 8)}`
        : `ergon-multi:${randomUUID()}`;
  const raw = await open(at);
  const client = new Client({ store: runtimeStore(raw, { coalesce: true }) });
  const wakeAt = Date.now() + Number(args.sleep ?? 0);
  for (let i = 0; i < N; i += 500)
    await Promise.all(
      Array.from({ length: Math.min(500, N - i) }, (_, k) =>
        client.schedule(f, args.sleep ? { wakeAt } : i + k),
      ),
    );
  const P = Number(args.processes);
  const kids = [];
  const dones = new Array(P).fill(0);
  let allDone;
  const finished = new Promise((r) => (allDone = r));
  let t0;
  for (let i = 0; i < P; i++) {
    const kid = fork(new URL(import.meta.url).pathname, [
      '--role',
      'worker',
      '--at',
      at,
      '--store',
      args.store,
      '--concurrency',
      args.concurrency,
      ...(args.prof ? ['--prof', args.prof] : []),
    ]);
    kids.push(kid);
    kid.on('message', (m) => {
      if (m.type === 'progress') {
        dones[i] = m.done;
        if (dones.reduce((a, b) => a + b, 0) >= N && !allDone.fired) {
          allDone.fired = true;
          allDone(performance.now());
        }
      }
    });
  }
  await Promise.all(kids.map((k) => new Promise((r) => k.once('message', r))));
  const { Redis } = await import('ioredis');
  const admin = args.store === 'redis' ? new Redis(process.env.URL ?? 'redis://127.0.0.1:6379') : undefined;
  const redisCpu = async () => {
    if (!admin) return 0;
    const info = await admin.info('cpu');
    const read = (name) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)[1]);
    return (read('used_cpu_sys') + read('used_cpu_user')) * 1e6;
  };
  const commandStats = async () => {
    const stats = new Map();
    if (!admin || !args.commands) return stats;
    for (const line of (await admin.info('commandstats')).split('\n')) {
      const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
      if (m) stats.set(m[1], { calls: Number(m[2]), usec: Number(m[3]) });
    }
    return stats;
  };
  const commands0 = await commandStats();
  const redis0 = await redisCpu();
  t0 = performance.now();
  for (const k of kids) k.send({ type: 'go' });
  const t1 = await finished;
  const redisUs = (await redisCpu()) - redis0;
  const commands1 = await commandStats();
  const finals = await Promise.all(
    kids.map(
      (k) =>
        new Promise((r) => {
          k.on('message', (m) => m.type === 'final' && r(m));
          k.send({ type: 'stop' });
        }),
    ),
  );
  const cpu = finals.reduce((a, m) => a + m.cpuUs, 0);
  console.log(
    `${args.store} ${P}×${args.concurrency}: ${N} flows in ${(t1 - t0).toFixed(0)} ms = ${Math.round((N / (t1 - t0)) * 1000)} flows/s; worker CPU ${Math.round(cpu / N)} µs/flow; redis ${Math.round(redisUs / N)} µs/flow`,
  );
  for (const m of finals)
    console.log(
      '  ',
      JSON.stringify(m.counts),
      `claims by limit ${JSON.stringify(m.claims)}`,
      'done',
      m.done,
      'cpu µs/flow',
      Math.round(m.cpuUs / m.done),
    );
  // Commands of other clients of the same server count too: run this on a quiet server.
  const ran = [...commands1]
    .map(([name, b]) => ({
      name,
      calls: b.calls - (commands0.get(name)?.calls ?? 0),
      usec: b.usec - (commands0.get(name)?.usec ?? 0),
    }))
    .filter((c) => c.calls > 0)
    .sort((a, b) => b.usec - a.usec);
  for (const c of ran.slice(0, 20))
    console.log(
      `   ${c.name.padEnd(16)} ${(c.calls / N).toFixed(3).padStart(8)} calls/flow ${(c.usec / N).toFixed(2).padStart(7)} µs/flow`,
    );
  await raw.close();
  if (admin) {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `{${at}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await admin.del(...keys);
    } while (cursor !== '0');
    admin.disconnect();
  }
  if (args.store === 'postgres') {
    // pg is the store's dependency, not the executor's.
    const { createRequire } = await import('node:module');
    const pg = createRequire(import.meta.resolve('@ergon/storage-postgres'))('pg');
    const admin = new pg.Client({
      connectionString: process.env.URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    });
    await admin.connect();
    await admin.query(`drop schema if exists ${at} cascade`);
    await admin.end();
  }
  rmSync(dir, { recursive: true, force: true });
}
