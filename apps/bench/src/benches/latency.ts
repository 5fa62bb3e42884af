/**
 * Enqueue → step start when idle, one at a time: the parent schedules a probe
 * flow (or adds a BullMQ job) after an idle gap and the worker process reports
 * the wall time its step (job) started. Worker processes are separate, as in a
 * deployment; on SQLite the in-process figure (scheduler and worker in one
 * process, the embedded set-up) is recorded too.
 *
 * @module
 */
import { Client, Worker } from '@ergon/executor';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { Queue } from 'bullmq';
import type { Bench, BenchContext } from '../lib/bench.js';
import { percentile, sleep, wallNow } from '../lib/clock.js';
import { REDIS_URL } from '../lib/config.js';
import { ALL_FLOWS, hooks, probe } from '../lib/flows.js';
import { WorkerProcess } from '../lib/procs.js';
import { makeRow, type Row } from '../lib/results.js';
import { bullConnection, deleteKeys, ergonKeys, tempDir, uniqueName } from '../lib/services.js';

const WARMUP = 5;

/**
 * Takes `samples` + warm-up measurements: after an idle gap, `enqueue(id)`,
 * then waits for `started(id)` to resolve with the start time.
 */
async function sample(
  context: BenchContext,
  enqueue: (id: number) => Promise<unknown>,
  started: (id: number) => Promise<number>,
): Promise<number[]> {
  const { latencySamples, latencyGapMs } = context.sizes;
  const out: number[] = [];
  for (let id = 0; id < latencySamples + WARMUP; id++) {
    // Jittered idle gap so the probe does not phase-lock with any poll.
    await sleep(latencyGapMs + Math.random() * latencyGapMs);
    const seen = started(id);
    const t0 = wallNow();
    await enqueue(id);
    const at = await seen;
    if (id >= WARMUP) out.push(at - t0);
  }
  return out;
}

function fromProcess(worker: WorkerProcess) {
  return (id: number) =>
    worker
      .waitFor((m) => m.type === 'started' && m.id === id, 10_000, `start of probe ${id}`)
      .then((m) => m.at as number);
}

function stats(values: number[]) {
  return { p50: percentile(values, 0.5), p99: percentile(values, 0.99), max: Math.max(...values) };
}

async function ergonRedis(context: BenchContext) {
  const prefix = uniqueName('latency');
  const store = await RedisExecutionLog.open({ url: REDIS_URL, prefix });
  let worker: WorkerProcess | undefined;
  try {
    worker = await WorkerProcess.start(
      'ergon-worker',
      { store: 'redis', redisUrl: REDIS_URL, prefix, id: 'latency', concurrency: context.sizes.concurrency },
      'ergon-latency',
    );
    worker.send({ type: 'go' });
    await sleep(200);
    const client = new Client({ store });
    const wp = worker;
    return stats(await sample(context, (id) => client.schedule(probe, { id }), fromProcess(wp)));
  } finally {
    worker?.kill();
    await store.close();
    await deleteKeys(ergonKeys(prefix));
  }
}

async function bullmq(context: BenchContext) {
  const prefix = uniqueName('bull-latency');
  const queue = new Queue('latency', { connection: bullConnection(REDIS_URL), prefix });
  let worker: WorkerProcess | undefined;
  try {
    worker = await WorkerProcess.start(
      'bullmq-worker',
      { redisUrl: REDIS_URL, prefix, queue: 'latency', scenario: 'probe' },
      'bullmq-latency',
    );
    worker.send({ type: 'go' });
    await sleep(200);
    const wp = worker;
    return stats(await sample(context, (id) => queue.add('probe', { id }), fromProcess(wp)));
  } finally {
    worker?.kill();
    await queue.close();
    await deleteKeys(`${prefix}:*`);
  }
}

async function ergonSqlite(context: BenchContext) {
  const tmp = tempDir();
  const dbPath = `${tmp.dir}/latency.db`;
  const store = await SqliteExecutionLog.open({ path: dbPath });
  let worker: WorkerProcess | undefined;
  try {
    worker = await WorkerProcess.start(
      'ergon-worker',
      { store: 'sqlite', dbPath, id: 'latency', concurrency: context.sizes.concurrency },
      'ergon-sqlite-latency',
    );
    worker.send({ type: 'go' });
    await sleep(200);
    const client = new Client({ store });
    const wp = worker;
    const crossProcess = stats(
      await sample(context, (id) => client.schedule(probe, { id }), fromProcess(wp)),
    );
    worker.kill();
    worker = undefined;

    // The embedded set-up: the worker runs in this process, on its own connection to the file.
    const workerStore = await SqliteExecutionLog.open({ path: dbPath });
    const inProcessWorker = new Worker({
      store: workerStore,
      flows: ALL_FLOWS,
      id: 'latency-in-process',
      concurrency: context.sizes.concurrency,
    }).start();
    const waiting = new Map<number, (at: number) => void>();
    hooks.onStart = (id, at) => waiting.get(id)?.(at);
    try {
      await sleep(200);
      const inProcess = stats(
        await sample(
          context,
          (id) => client.schedule(probe, { id }, { flowId: `in-process-${id}` }),
          (id) => new Promise<number>((resolve) => waiting.set(id, resolve)),
        ),
      );
      return { crossProcess, inProcess };
    } finally {
      hooks.onStart = undefined;
      await inProcessWorker.stop({ timeout: '2s' });
      await workerStore.close();
    }
  } finally {
    worker?.kill();
    await store.close();
    tmp.remove();
  }
}

export const latencyRedis: Bench = {
  id: 'latency-idle-redis',
  rows: [
    { name: 'latency-idle-redis-p50', unit: 'ms', better: 'lower' },
    { name: 'latency-idle-redis-p99', unit: 'ms', better: 'lower' },
  ],
  run: async (context): Promise<Row[]> => {
    const ergon = await ergonRedis(context);
    const peer = await bullmq(context);
    context.log(
      `  ergon p50 ${ergon.p50.toFixed(3)} p99 ${ergon.p99.toFixed(3)} ms; bullmq p50 ${peer.p50.toFixed(3)} p99 ${peer.p99.toFixed(3)} ms`,
    );
    const extra = {
      size: context.sizes.latencySamples,
      idleGapMs: [context.sizes.latencyGapMs, context.sizes.latencyGapMs * 2],
      workers: 1,
      ergonMaxMs: ergon.max,
      peerMaxMs: peer.max,
    };
    return [
      makeRow('latency-idle-redis-p50', {
        unit: 'ms',
        better: 'lower',
        ergon: ergon.p50,
        peer: 'bullmq',
        peerValue: peer.p50,
        extra,
      }),
      makeRow('latency-idle-redis-p99', {
        unit: 'ms',
        better: 'lower',
        ergon: ergon.p99,
        peer: 'bullmq',
        peerValue: peer.p99,
        extra,
      }),
    ];
  },
};

export const latencySqlite: Bench = {
  id: 'latency-idle-sqlite',
  rows: [
    { name: 'latency-idle-sqlite-p50', unit: 'ms', better: 'lower' },
    { name: 'latency-idle-sqlite-p99', unit: 'ms', better: 'lower' },
  ],
  run: async (context): Promise<Row[]> => {
    const { crossProcess, inProcess } = await ergonSqlite(context);
    context.log(
      `  worker process: p50 ${crossProcess.p50.toFixed(3)} p99 ${crossProcess.p99.toFixed(3)} ms; ` +
        `in process: p50 ${inProcess.p50.toFixed(3)} p99 ${inProcess.p99.toFixed(3)} ms`,
    );
    const extra = (p: 'p50' | 'p99') => ({
      size: context.sizes.latencySamples,
      idleGapMs: [context.sizes.latencyGapMs, context.sizes.latencyGapMs * 2],
      workers: 1,
      setup: 'worker in a separate process (as on Redis)',
      inProcessMs: inProcess[p],
      maxMs: crossProcess.max,
    });
    return [
      makeRow('latency-idle-sqlite-p50', {
        unit: 'ms',
        better: 'lower',
        ergon: crossProcess.p50,
        extra: extra('p50'),
      }),
      makeRow('latency-idle-sqlite-p99', {
        unit: 'ms',
        better: 'lower',
        ergon: crossProcess.p99,
        extra: extra('p99'),
      }),
    ];
  },
};
