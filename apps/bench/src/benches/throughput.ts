/**
 * Throughput: N no-op flows (1 or 3 sequential steps) through 2 worker
 * processes of equal concurrency, against BullMQ jobs (a FlowProducer chain of
 * 3 jobs for the 3-step case) on the same Redis, and pg-boss on PostgreSQL for
 * the SQLite store. Everything is enqueued first, workers are started and
 * ready, then told `go` together: the rate is N / (last completion − go).
 *
 * @module
 */
import { Client } from '@ergon/executor';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { type FlowJob, FlowProducer, Queue } from 'bullmq';
import PgBoss from 'pg-boss';
import type { Bench, BenchContext } from '../lib/bench.js';
import { wallNow } from '../lib/clock.js';
import { POSTGRES_URL, REDIS_URL } from '../lib/config.js';
import { oneStep, threeSteps } from '../lib/flows.js';
import { completion, startWorkers, type WorkerProcess } from '../lib/procs.js';
import { makeRow, type Row } from '../lib/results.js';
import {
  bullConnection,
  deleteKeys,
  dropSchema,
  ergonKeys,
  pgSchemaName,
  tempDir,
  uniqueName,
} from '../lib/services.js';

export interface RunResult {
  readonly perSecond: number;
  readonly seconds: number;
  readonly enqueueSeconds: number;
  readonly workerCpuMs: number;
}

/** Tells every worker `go`, waits for `total` completions, stops them. */
export async function drive(
  workers: WorkerProcess[],
  total: number,
): Promise<Omit<RunResult, 'enqueueSeconds'>> {
  const timeoutMs = 120_000 + total * 20;
  const cpuAtGo = await cpuOf(workers, 'go');
  const done = completion(workers, total, timeoutMs);
  const go = wallNow();
  for (const w of workers) w.send({ type: 'go' });
  let end: number | undefined;
  let failure: unknown;
  try {
    end = await done;
  } catch (error) {
    failure = error;
  }
  const finals = await Promise.all(workers.map((w) => w.stop()));
  if (end === undefined) throw failure;
  const seconds = (end - go) / 1000;
  // From `go`: start-up and loading are not the flows' cost.
  const workerCpuMs = finals.reduce((sum, f) => sum + Number(f?.cpuMs ?? 0), 0) - cpuAtGo;
  return { perSecond: total / seconds, seconds, workerCpuMs };
}

/** The CPU ms the worker processes have used so far, summed. */
export async function cpuOf(workers: readonly WorkerProcess[], tag: string): Promise<number> {
  const replies = await Promise.all(
    workers.map((w) => {
      const reply = w.waitFor((m) => m.type === 'cpu' && m.tag === tag, 10_000, 'cpu');
      w.send({ type: 'cpu', tag });
      return reply;
    }),
  );
  return replies.reduce((sum, m) => sum + Number(m.cpuMs), 0);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: number, limit: number, fn: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items) }, async () => {
      while (next < items) await fn(next++);
    }),
  );
}

/** How many worker processes, and flows each runs at once (default: the run's sizes). */
export interface Shape {
  readonly workers?: number;
  readonly concurrency?: number;
}

export async function ergonRedis(steps: 1 | 3, context: BenchContext, shape: Shape = {}): Promise<RunResult> {
  const { throughputFlows: n } = context.sizes;
  const count = shape.workers ?? context.sizes.workers;
  const concurrency = shape.concurrency ?? context.sizes.concurrency;
  const prefix = uniqueName(`tp${steps}`);
  const store = await RedisExecutionLog.open({ url: REDIS_URL, prefix });
  let workers: WorkerProcess[] = [];
  try {
    workers = await startWorkers(
      'ergon-worker',
      count,
      (i) => ({ store: 'redis', redisUrl: REDIS_URL, prefix, id: `tp-${i}`, concurrency }),
      `ergon-redis-${steps}`,
    );
    const client = new Client({ store });
    const t0 = wallNow();
    const definition = steps === 1 ? oneStep : threeSteps;
    await pool(n, 64, (i) => client.schedule(definition, undefined, { flowId: `f-${i}` }));
    const enqueueSeconds = (wallNow() - t0) / 1000;
    return { ...(await drive(workers, n)), enqueueSeconds };
  } finally {
    for (const w of workers) w.kill();
    await store.close();
    await deleteKeys(ergonKeys(prefix));
  }
}

export async function bullmq(steps: 1 | 3, context: BenchContext, shape: Shape = {}): Promise<RunResult> {
  const { throughputFlows: n } = context.sizes;
  const count = shape.workers ?? context.sizes.workers;
  const concurrency = shape.concurrency ?? context.sizes.concurrency;
  const prefix = uniqueName(`bull${steps}`);
  const queueName = 'tp';
  const connection = bullConnection(REDIS_URL);
  let workers: WorkerProcess[] = [];
  const queue = new Queue(queueName, { connection, prefix });
  const producer = new FlowProducer({ connection, prefix });
  try {
    workers = await startWorkers(
      'bullmq-worker',
      count,
      () => ({
        redisUrl: REDIS_URL,
        prefix,
        queue: queueName,
        scenario: steps === 1 ? 'jobs' : 'chain',
        concurrency,
      }),
      `bullmq-${steps}`,
    );
    const t0 = wallNow();
    for (let from = 0; from < n; from += 500) {
      const size = Math.min(500, n - from);
      if (steps === 1) {
        await queue.addBulk(Array.from({ length: size }, (_, i) => ({ name: 'job', data: { i: from + i } })));
      } else {
        const chain = (i: number): FlowJob => ({
          name: 'c3',
          queueName,
          data: { i },
          children: [
            { name: 'c2', queueName, data: { i }, children: [{ name: 'c1', queueName, data: { i } }] },
          ],
        });
        await producer.addBulk(Array.from({ length: size }, (_, i) => chain(from + i)));
      }
    }
    const enqueueSeconds = (wallNow() - t0) / 1000;
    return { ...(await drive(workers, n)), enqueueSeconds };
  } finally {
    for (const w of workers) w.kill();
    await queue.close();
    await producer.close();
    await deleteKeys(`${prefix}:*`);
  }
}

export async function ergonSqlite(context: BenchContext): Promise<RunResult> {
  const { throughputFlows: n, workers: count, concurrency } = context.sizes;
  const tmp = tempDir();
  const dbPath = `${tmp.dir}/throughput.db`;
  const store = await SqliteExecutionLog.open({ path: dbPath });
  let workers: WorkerProcess[] = [];
  try {
    workers = await startWorkers(
      'ergon-worker',
      count,
      (i) => ({ store: 'sqlite', dbPath, id: `tp-${i}`, concurrency }),
      'ergon-sqlite',
    );
    const client = new Client({ store });
    const t0 = wallNow();
    await pool(n, 16, (i) => client.schedule(oneStep, undefined, { flowId: `f-${i}` }));
    const enqueueSeconds = (wallNow() - t0) / 1000;
    return { ...(await drive(workers, n)), enqueueSeconds };
  } finally {
    for (const w of workers) w.kill();
    await store.close();
    tmp.remove();
  }
}

export async function pgBoss(context: BenchContext): Promise<RunResult> {
  const { throughputFlows: n, workers: count, concurrency } = context.sizes;
  const schema = pgSchemaName();
  const queueName = 'tp';
  const boss = new PgBoss({ connectionString: POSTGRES_URL, schema, supervise: false, schedule: false });
  boss.on('error', (error) => context.log(`  pg-boss: ${error.message}`));
  let workers: WorkerProcess[] = [];
  try {
    await boss.start();
    await boss.createQueue(queueName);
    workers = await startWorkers(
      'pgboss-worker',
      count,
      () => ({ postgresUrl: POSTGRES_URL, schema, queue: queueName, concurrency }),
      'pgboss',
    );
    const t0 = wallNow();
    for (let from = 0; from < n; from += 1000) {
      const size = Math.min(1000, n - from);
      await boss.insert(Array.from({ length: size }, (_, i) => ({ name: queueName, data: { i: from + i } })));
    }
    const enqueueSeconds = (wallNow() - t0) / 1000;
    return { ...(await drive(workers, n)), enqueueSeconds };
  } finally {
    for (const w of workers) w.kill();
    await boss.stop({ graceful: false, wait: true }).catch(() => {});
    await dropSchema(schema);
  }
}

function describe(r: RunResult) {
  return {
    seconds: Number(r.seconds.toFixed(3)),
    enqueueSeconds: Number(r.enqueueSeconds.toFixed(3)),
    workerCpuSeconds: Number((r.workerCpuMs / 1000).toFixed(2)),
  };
}

function rows(
  name: 'throughput-redis-1step' | 'throughput-redis-3step' | 'throughput-sqlite-1step',
  peer: string,
  ergon: RunResult,
  other: RunResult,
  context: BenchContext,
): Row[] {
  context.log(
    `  ${name}: ergon ${ergon.perSecond.toFixed(0)}/s (${ergon.seconds.toFixed(2)} s), ${peer} ${other.perSecond.toFixed(0)}/s (${other.seconds.toFixed(2)} s)`,
  );
  return [
    makeRow(name, {
      unit: 'flows/s',
      better: 'higher',
      ergon: ergon.perSecond,
      peer,
      peerValue: other.perSecond,
      extra: {
        size: context.sizes.throughputFlows,
        workers: context.sizes.workers,
        concurrency: context.sizes.concurrency,
        ergonRun: describe(ergon),
        peerRun: describe(other),
      },
    }),
  ];
}

export const throughputRedis1: Bench = {
  id: 'throughput-redis-1step',
  rows: [{ name: 'throughput-redis-1step', unit: 'flows/s', better: 'higher' }],
  run: async (context) => {
    const ergon = await ergonRedis(1, context);
    const peer = await bullmq(1, context);
    return rows('throughput-redis-1step', 'bullmq jobs', ergon, peer, context);
  },
};

export const throughputRedis3: Bench = {
  id: 'throughput-redis-3step',
  rows: [{ name: 'throughput-redis-3step', unit: 'flows/s', better: 'higher' }],
  run: async (context) => {
    const ergon = await ergonRedis(3, context);
    const peer = await bullmq(3, context);
    return rows('throughput-redis-3step', 'bullmq FlowProducer 3-job chain', ergon, peer, context);
  },
};

export const throughputSqlite: Bench = {
  id: 'throughput-sqlite-1step',
  rows: [{ name: 'throughput-sqlite-1step', unit: 'flows/s', better: 'higher' }],
  run: async (context) => {
    const ergon = await ergonSqlite(context);
    const peer = await pgBoss(context);
    return rows('throughput-sqlite-1step', 'pg-boss (PostgreSQL)', ergon, peer, context);
  },
};
