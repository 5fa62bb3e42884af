// One Worker process draining N pre-created flows from one store, for CPU profiles and
// quick before/after comparisons (issue #17: profile before optimising). Not a benchmark
// row: apps/bench has those.
//
//   node [--cpu-prof --cpu-prof-dir=/tmp/prof] bench/profile-store.mjs \
//     [--store sqlite|redis|postgres] [--flows 20000] [--concurrency 50] [--steps 1] [--no-coalesce]
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runtimeStore } from '@ergon/core';
import { Client, flow, Worker } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    flows: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '50' },
    steps: { type: 'string', default: '1' },
    'no-coalesce': { type: 'boolean', default: false },
    timings: { type: 'boolean', default: false },
  },
});
const N = Number(args.flows);
const STEPS = Number(args.steps);
const { store: raw, stats, cleanup } = await open(args.store);
const store = runtimeStore(raw, { coalesce: !args['no-coalesce'] });
let batches = 0;
let batched = 0;
if (raw.applyWrites) {
  const apply = raw.applyWrites.bind(raw);
  raw.applyWrites = (writes) => {
    batches++;
    batched += writes.length;
    return apply(writes);
  };
}
// --timings: calls and wall time of each store method, as the worker waits for them.
const timings = new Map();
if (args.timings) {
  for (const method of ['claim', 'applyWrites', 'recordOperation', 'finishFlow', 'renewLease', 'getHistory']) {
    const original = raw[method]?.bind(raw);
    if (!original) continue;
    raw[method] = async (...a) => {
      const t0 = performance.now();
      try {
        return await original(...a);
      } finally {
        const t = timings.get(method) ?? { calls: 0, ms: 0 };
        t.calls++;
        t.ms += performance.now() - t0;
        timings.set(method, t);
      }
    };
  }
}
const f = flow('prof', async (ctx, n) => {
  for (let i = 0; i < STEPS; i++) await ctx.run(`s${i}`, () => n + i);
  return n;
});
const client = new Client({ store });
for (let i = 0; i < N; i += 500)
  await Promise.all(Array.from({ length: Math.min(500, N - i) }, (_, k) => client.schedule(f, i + k)));
await stats?.reset();
let done = 0;
let finished;
const all = new Promise((r) => (finished = r));
const worker = new Worker({
  store,
  flows: [f],
  concurrency: Number(args.concurrency),
  onOutcome: () => {
    if (++done === N) finished();
  },
});
const cpu = process.cpuUsage();
const started = performance.now();
worker.start();
await all;
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
await worker.stop();
console.log(
  `${args.store}${store.coalescing ? '' : ' (no coalescing)'}: ${N} flows × ${STEPS} steps in ${ms.toFixed(0)} ms: ` +
    `${((N / ms) * 1000).toFixed(0)} flows/s; worker CPU ${Math.round((used.user + used.system) / N)} µs/flow; ` +
    `${batches} batches of ${batches ? (batched / batches).toFixed(1) : 0} writes`,
);
if (stats) console.log((await stats.read()).join('\n'));
for (const [method, t] of timings)
  console.log(`  ${method}: ${t.calls} calls, ${(t.ms / t.calls).toFixed(2)} ms each, ${t.ms.toFixed(0)} ms in all`);
await store.close();
await cleanup();

async function open(kind) {
  if (kind === 'sqlite') {
    const { SqliteExecutionLog } = await import('@ergon/storage-sqlite');
    const dir = mkdtempSync(join(tmpdir(), 'ergon-prof-'));
    const store = await SqliteExecutionLog.open({ path: join(dir, 'prof.db') });
    return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (kind === 'postgres') {
    const { PostgresExecutionLog } = await import('@ergon/storage-postgres');
    const url = process.env.ERGON_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const schema = `ergon_prof_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const store = await PostgresExecutionLog.open({ url, schema });
    return {
      store,
      cleanup: async () => {
        const { execFileSync } = await import('node:child_process');
        execFileSync('psql', [url, '-qc', `drop schema if exists ${schema} cascade`], {
          env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
        });
      },
    };
  }
  const { RedisExecutionLog } = await import('@ergon/storage-redis');
  const { Redis } = await import('ioredis');
  const url = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `ergon-prof:${randomUUID()}`;
  const store = await RedisExecutionLog.open({ url, prefix });
  const admin = new Redis(url);
  return {
    store,
    // Server-wide counters: other clients of this Redis count too.
    stats: {
      reset: () => admin.config('RESETSTAT'),
      read: async () =>
        (await admin.info('commandstats'))
          .split('\r\n')
          .filter((l) => /^cmdstat_(evalsha|hset|hget|zadd|publish)/.test(l)),
    },
    cleanup: async () => {
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `{${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await admin.del(...keys);
      } while (cursor !== '0');
      admin.disconnect();
    },
  };
}
