// The deterministic simulation over many seeds, on the built packages (issue #16).
// Not a test: prints progress, every failing seed with its broken invariants, and a summary.
//
//   node bench/simulate.mjs [--seeds 100000] [--first 1] [--store memory|sqlite|redis] [--jobs 2] [--trace]
//
// --jobs splits the seed range over that many processes (default: the cores). A failing seed
// replays exactly on the memory store: node bench/simulate.mjs --first <seed> --seeds 1 --trace
// prints its store calls. Exit code 1 when any seed broke an invariant.
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { InMemoryExecutionLog, runtimeStore } from '@ergon/core';
import { Graph } from '@ergon/graph';
import { DEFAULT_SHAPE, executorEngine, formatTrace, runSimulation } from '@ergon/testing/simulation';
import { Client, flow, Worker } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100000' },
    first: { type: 'string', default: '1' },
    store: { type: 'string', default: 'memory' },
    jobs: { type: 'string', default: String(availableParallelism()) },
    trace: { type: 'boolean', default: false },
  },
});
const SEEDS = Number(args.seeds);
/** Seeds per process. */
const CHUNK = 1000;
const FIRST = Number(args.first);
const STORE = args.store;
if (!['memory', 'sqlite', 'redis'].includes(STORE))
  throw new Error('--store must be memory, sqlite or redis');
// As in test/simulation: stores behind I/O run smaller seeds.
const SHAPE =
  STORE === 'memory'
    ? { ...DEFAULT_SHAPE, workers: [2, 3] }
    : { ...DEFAULT_SHAPE, flows: [1, 2], ops: [2, 4], workers: [2, 3] };

if (process.env.ERGON_SIM_CHILD) await child();
else await parent();

/** Splits the range over the jobs, prints their progress and the summary. */
async function parent() {
  const jobs = Math.max(1, Math.min(Number(args.jobs), SEEDS));
  const started = performance.now();
  console.log(
    `simulating ${SEEDS} seeds (${FIRST}–${FIRST + SEEDS - 1}) on ${STORE} in ${jobs} processes, node ${process.version}`,
  );
  const totals = { seeds: 0, failed: 0, calls: 0, cpuMs: 0, faults: {}, maxRssMb: 0 };
  const failures = [];
  let lastPrint = performance.now();
  // Seeds go out in chunks to a few processes at a time; each process runs one chunk and exits, which
  // bounds its memory whatever the engine keeps (it leaks the frames of suspended activations).
  const chunks = [];
  for (let first = FIRST; first < FIRST + SEEDS; first += CHUNK)
    chunks.push([first, Math.min(CHUNK, FIRST + SEEDS - first)]);
  const runChunk = ([first, count]) =>
    new Promise((resolve, reject) => {
      const proc = fork(
        new URL(import.meta.url).pathname,
        [...process.argv.slice(2), '--first', String(first), '--seeds', String(count)],
        { env: { ...process.env, ERGON_SIM_CHILD: '1' } },
      );
      proc.on('message', (m) => {
        if (m.kind === 'failure') {
          failures.push(m);
          console.log(`\nFAILED seed ${m.seed} (${m.profile}):\n  ${m.lines.join('\n  ')}`);
          if (m.trace) console.log(m.trace.join('\n'));
          return;
        }
        totals.seeds += m.seeds;
        totals.calls += m.calls;
        totals.cpuMs += m.cpuMs;
        totals.maxRssMb = Math.max(totals.maxRssMb, m.rssMb);
        for (const [k, v] of Object.entries(m.faults)) totals.faults[k] = (totals.faults[k] ?? 0) + v;
        if (performance.now() - lastPrint > 10_000) {
          lastPrint = performance.now();
          const s = (lastPrint - started) / 1000;
          console.log(
            `${totals.seeds}/${SEEDS} seeds in ${s.toFixed(0)} s (${(totals.seeds / s).toFixed(1)} seeds/s), ` +
              `${failures.length} failed, largest process ${totals.maxRssMb} MB`,
          );
        }
      });
      proc.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`seeds ${first}+${count}: exit ${code}`)),
      );
    });
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) await runChunk(chunk);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const summary = {
    store: STORE,
    seeds: totals.seeds,
    first: FIRST,
    failed: failures.length,
    failedSeeds: failures.map((f) => f.seed),
    seconds: Number(seconds.toFixed(1)),
    seedsPerSecond: Number((totals.seeds / seconds).toFixed(1)),
    cpuSeconds: Number((totals.cpuMs / 1000).toFixed(1)),
    storeCalls: totals.calls,
    faults: totals.faults,
    jobs,
    largestProcessMb: totals.maxRssMb,
  };
  console.log(
    `\n${summary.seeds} seeds on ${STORE} in ${summary.seconds} s (${summary.seedsPerSecond} seeds/s, ` +
      `${summary.cpuSeconds} s of CPU, ${jobs} processes); ${summary.storeCalls} store calls; faults injected ` +
      `${JSON.stringify(summary.faults)}; ${summary.failed} failed${summary.failed ? `: seeds ${summary.failedSeeds.join(', ')}` : ''}`,
  );
  console.log(JSON.stringify(summary));
  process.exitCode = failures.length > 0 ? 1 : 0;
}

/** Runs its range and reports to the parent. */
async function child() {
  const engine = executorEngine({ flow, Worker, Client, Graph });
  const { createStore, close } = await stores(STORE);
  const batch = { seeds: 0, calls: 0, cpuMs: 0, faults: {} };
  let cpu = process.cpuUsage();
  const flush = () => {
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    process.send({
      kind: 'progress',
      ...batch,
      cpuMs: (used.user + used.system) / 1000,
      rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
    });
    Object.assign(batch, { seeds: 0, calls: 0, faults: {} });
  };
  for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
    let trace;
    const report = await runSimulation({
      seed,
      engine,
      createStore,
      shape: SHAPE,
      onTrace: args.trace ? (t) => (trace = t) : undefined,
    });
    batch.seeds++;
    batch.calls += report.stats.storeCalls;
    for (const [k, v] of Object.entries(report.stats.faults)) batch.faults[k] = (batch.faults[k] ?? 0) + v;
    if (report.violations.length > 0) {
      process.send({
        kind: 'failure',
        seed,
        profile: report.profile,
        lines: report.violations.map((v) => `${v.invariant}${v.flowId ? ` ${v.flowId}` : ''}: ${v.detail}`),
        trace: trace ? formatTrace(trace.entries) : undefined,
      });
    }
    if (batch.seeds >= 100) flush();
  }
  flush();
  await close();
  process.disconnect();
}

/** One store per process for SQLite and Redis (seeds keep to their own ids and queue), a fresh one per seed in memory. */
async function stores(kind) {
  if (kind === 'memory')
    return {
      createStore: async () => ({ store: new InMemoryExecutionLog(), dispose: async () => {} }),
      close: async () => {},
    };
  let store;
  let cleanup = async () => {};
  if (kind === 'sqlite') {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { SqliteExecutionLog } = await import('@ergon/storage-sqlite');
    const dir = mkdtempSync(join(tmpdir(), 'ergon-sim-'));
    store = await SqliteExecutionLog.open({ path: join(dir, 'sim.db') });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const { randomUUID } = await import('node:crypto');
    const { RedisExecutionLog } = await import('@ergon/storage-redis');
    const { Redis } = await import('ioredis');
    const url = process.env.ERGON_REDIS_URL ?? 'redis://127.0.0.1:6379';
    const prefix = `ergon-sim:${randomUUID()}`;
    store = await RedisExecutionLog.open({ url, prefix });
    cleanup = async () => {
      const admin = new Redis(url, { maxRetriesPerRequest: 1 });
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `\\{${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await admin.del(...keys);
      } while (cursor !== '0');
      admin.disconnect();
    };
  }
  const runtime = runtimeStore(store);
  return {
    createStore: async () => ({
      store,
      dispose: async () => {
        while ((await runtime.purge({ finishedBefore: Date.UTC(2100, 0, 1), limit: 1000 })) === 1000) {}
      },
    }),
    close: async () => {
      await store.close();
      await cleanup();
    },
  };
}
