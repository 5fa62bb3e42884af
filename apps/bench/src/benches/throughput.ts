/**
 * Throughput: N no-op flows (1 or 3 sequential steps) through 2 worker
 * processes of equal concurrency, against BullMQ jobs (a FlowProducer chain of
 * 3 jobs for the 3-step case) on the same Redis, and pg-boss on PostgreSQL for
 * the SQLite store. Each side's workers first run a warm-up batch untimed and
 * pause (`warmUp`); then everything is enqueued, and the workers are told `go`
 * together: the rate is N / (last completion − go). The warm-up's own rate is
 * kept as `coldPerSecond`.
 *
 * @module
 */
import { Client } from '@ergon/executor';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { type FlowJob, FlowProducer, Queue } from 'bullmq';
import PgBoss from 'pg-boss';
import type { Bench, BenchContext } from '../lib/bench.js';
import { POSTGRES_URL, REDIS_URL } from '../lib/config.js';
import { oneStep, threeSteps } from '../lib/flows.js';
import { startWorkers, type WorkerProcess } from '../lib/procs.js';
import { makeRow, type Row } from '../lib/results.js';
import { pool, type RunResult, timedRounds, warmUp } from '../lib/runs.js';
import {
  bullConnection,
  deleteKeys,
  dropSchema,
  ergonKeys,
  pgSchemaName,
  tempDir,
  uniqueName,
} from '../lib/services.js';

/** How many worker processes, and flows each runs at once (default: the run's sizes). */
export interface Shape {
  readonly workers?: number;
  readonly concurrency?: number;
  /** Called after the warm-up, before the timed run's enqueue (to start a reading of the store's CPU). */
  readonly afterWarmUp?: () => Promise<void>;
  /** Timed rounds (default: the run's sizes); the median round is returned. */
  readonly rounds?: number;
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
    const definition = steps === 1 ? oneStep : threeSteps;
    const enqueue = (tag: string, count: number) =>
      pool(count, 64, (i) => client.schedule(definition, undefined, { flowId: `${tag}-${i}` }));
    const coldPerSecond = await warmUp(workers, context.sizes.throughputWarmup, (count) =>
      enqueue('w', count),
    );
    await shape.afterWarmUp?.();
    const rounds = shape.rounds ?? context.sizes.throughputRounds;
    const run = await timedRounds(workers, rounds, n, (round) => enqueue(`f${round}`, n));
    return { ...run, coldPerSecond };
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
    const enqueue = async (n: number) => {
      for (let from = 0; from < n; from += 500) {
        const size = Math.min(500, n - from);
        if (steps === 1) {
          await queue.addBulk(
            Array.from({ length: size }, (_, i) => ({ name: 'job', data: { i: from + i } })),
          );
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
    };
    const coldPerSecond = await warmUp(workers, context.sizes.throughputWarmup, enqueue);
    await shape.afterWarmUp?.();
    const rounds = shape.rounds ?? context.sizes.throughputRounds;
    const run = await timedRounds(workers, rounds, n, () => enqueue(n));
    return { ...run, coldPerSecond };
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
    const enqueue = (tag: string, count: number) =>
      pool(count, 16, (i) => client.schedule(oneStep, undefined, { flowId: `${tag}-${i}` }));
    const coldPerSecond = await warmUp(workers, context.sizes.throughputWarmup, (count) =>
      enqueue('w', count),
    );
    const run = await timedRounds(workers, context.sizes.throughputRounds, n, (round) =>
      enqueue(`f${round}`, n),
    );
    return { ...run, coldPerSecond };
  } finally {
    for (const w of workers) w.kill();
    await store.close();
    tmp.remove();
  }
}

export async function pgBoss(context: BenchContext): Promise<RunResult> {
  const { throughputFlows: n, throughputRounds: rounds, workers: count, concurrency } = context.sizes;
  const schema = pgSchemaName();
  // Each timed round on a queue of its own (its own partition of pg-boss's job table), as the
  // warm-up is: no round's fetches pass the finished jobs of another.
  const roundQueue = (round: number) => `tp-${round}`;
  const warmQueue = 'tp-warm';
  const boss = new PgBoss({ connectionString: POSTGRES_URL, schema, supervise: false, schedule: false });
  boss.on('error', (error) => context.log(`  pg-boss: ${error.message}`));
  let workers: WorkerProcess[] = [];
  try {
    await boss.start();
    for (let round = 0; round < rounds; round++) await boss.createQueue(roundQueue(round));
    await boss.createQueue(warmQueue);
    workers = await startWorkers(
      'pgboss-worker',
      count,
      () => ({ postgresUrl: POSTGRES_URL, schema, queue: roundQueue(0), warmQueue, concurrency }),
      'pgboss',
    );
    const enqueue = async (name: string, n: number) => {
      for (let from = 0; from < n; from += 1000) {
        const size = Math.min(1000, n - from);
        await boss.insert(Array.from({ length: size }, (_, i) => ({ name, data: { i: from + i } })));
      }
    };
    const coldPerSecond = await warmUp(workers, context.sizes.throughputWarmup, (n) => enqueue(warmQueue, n));
    const run = await timedRounds(
      workers,
      rounds,
      n,
      (round) => enqueue(roundQueue(round), n),
      (round) => ({ queue: roundQueue(round + 1) }),
    );
    return { ...run, coldPerSecond };
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
    coldPerSecond: r.coldPerSecond === undefined ? undefined : Math.round(r.coldPerSecond),
    rounds: r.rounds,
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
