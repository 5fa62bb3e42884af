// The engine's own CPU per flow: one Worker (concurrency C) draining N one-step flows from a store
// that does nothing (claims from a prepared list; every call answered in the next macrotask, as
// a store's I/O would be), so executor and core are all that runs. Median of ROUNDS rounds.
//   node [--cpu-prof --cpu-prof-dir DIR] bench/engine-cpu.mjs [N] [C]
//   HEAP=DIR: an allocation sampling profile of the measured rounds (DIR/engine.heapprofile)
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { defaultCodec } from '@ergon/core';
import { flow, Worker } from '../dist/index.js';

const n = Number(process.argv[2] ?? 30000);
const concurrency = Number(process.argv[3] ?? 50);
const f = flow('engine', async (ctx, x) => ctx.run('s0', () => x + 1));
const input = defaultCodec.encode(1);
const later = (value) => new Promise((resolve) => setImmediate(resolve, value));

/** Just enough of a store for a Worker without events, liveness or schedules. */
class NullStore {
  name = 'null';
  capabilities = { events: false };
  #ids = [];
  #token = 0;
  constructor(count) {
    for (let i = 0; i < count; i++) this.#ids.push(`f-${i}-${Math.random().toString(36).slice(2, 10)}`);
  }
  claim(r) {
    const out = [];
    while (out.length < r.limit && this.#ids.length > 0) {
      const id = this.#ids.pop();
      const token = ++this.#token;
      out.push({
        token,
        flow: {
          id,
          type: 'engine',
          queue: 'default',
          status: 'running',
          priority: 0,
          input,
          fencingToken: token,
          leaseOwner: r.workerId,
          leaseExpiresAt: r.now + r.leaseMs,
          waits: [],
          cancelRequested: false,
          runCount: 1,
          abandonedRuns: 0,
          createdAt: r.now,
          updatedAt: r.now,
        },
      });
    }
    return later(out);
  }
  applyWrites(writes) {
    return later(
      writes.map((w) => ({
        ok: true,
        value:
          w.op === 'record'
            ? { record: w.request.record, existed: false, cancelRequested: false }
            : w.op === 'suspend'
              ? { outcome: 'suspended' }
              : undefined,
      })),
    );
  }
  recordOperation(r) {
    return later({ record: r.record, existed: false, cancelRequested: false });
  }
  finishFlow() {
    return later(undefined);
  }
  renewLease() {
    return later({ cancelRequested: false });
  }
  releaseLease() {
    return later(undefined);
  }
  nextWakeAt() {
    return later(undefined);
  }
  purge() {
    return later(0);
  }
  listFlows() {
    return later({ flows: [] });
  }
  getHistory() {
    return later([]);
  }
  close() {
    return later(undefined);
  }
}

async function round(count) {
  const store = new NullStore(count);
  let done = 0;
  let resolve;
  const all = new Promise((r) => (resolve = r));
  const worker = new Worker({
    store,
    flows: [f],
    concurrency,
    liveness: false,
    schedules: false,
    maxIdle: '5ms',
    onOutcome: () => {
      if (++done === count) resolve();
    },
  });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  worker.start();
  await all;
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  await worker.stop();
  return { wall: (ms * 1000) / count, cpu: (c.user + c.system) / count };
}

await round(5000);
await round(5000);
const session = new Session();
session.connect();
if (process.env.HEAP) {
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
const rounds = [];
for (let i = 0; i < Number(process.env.ROUNDS ?? 3); i++) rounds.push(await round(n));
if (process.env.HEAP) {
  const { profile } = await session.post('HeapProfiler.stopSampling');
  writeFileSync(`${process.env.HEAP}/engine.heapprofile`, JSON.stringify(profile));
}
rounds.sort((a, b) => a.cpu - b.cpu);
const r = rounds[Math.floor(rounds.length / 2)];
console.log(
  `engine: ${n} one-step flows, concurrency ${concurrency}: ${r.wall.toFixed(1)} µs/flow wall, ` +
    `${r.cpu.toFixed(1)} µs/flow CPU (median of ${rounds.length}, min ${rounds[0].cpu.toFixed(1)})`,
);
