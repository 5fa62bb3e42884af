/**
 * The scaling curve and the CPU cost of a flow (issue #17), on Redis with
 * one-step no-op flows: throughput at concurrency 1, 16 and 64 per worker
 * (2 processes) and with 1, 2 and 4 worker processes (concurrency 50), each
 * beside BullMQ in the same shape; and CPU µs per flow, of the worker
 * processes and of the Redis server (its `used_cpu_*` over the run, which also
 * counts other clients of a shared server), beside BullMQ's per job.
 *
 * @module
 */
import { Redis } from 'ioredis';
import type { Bench, BenchContext } from '../lib/bench.js';
import { REDIS_URL } from '../lib/config.js';
import { makeRow, type Row, type RowName } from '../lib/results.js';
import type { RunResult } from '../lib/runs.js';
import { bullmq, ergonRedis, type Shape } from './throughput.js';

/** The Redis server's CPU seconds so far (user + system, all its threads). */
async function redisCpuSeconds(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

interface Measured extends RunResult {
  /** Redis server CPU µs per flow over the run (enqueue included). */
  readonly storeUsPerFlow: number;
}

/**
 * Runs `run`, reading the Redis server's CPU from the end of its warm-up (`afterWarmUp`) to its
 * end: over all its timed rounds, `n` flows in all.
 */
async function measure(
  admin: Redis,
  n: number,
  run: (afterWarmUp: () => Promise<void>) => Promise<RunResult>,
): Promise<Measured> {
  let before = 0;
  const result = await run(async () => {
    before = await redisCpuSeconds(admin);
  });
  const storeUsPerFlow = (((await redisCpuSeconds(admin)) - before) * 1e6) / n;
  return { ...result, storeUsPerFlow };
}

const CURVE: readonly { name: RowName; shape: Shape }[] = [
  { name: 'scaling-redis-concurrency-1', shape: { workers: 2, concurrency: 1 } },
  { name: 'scaling-redis-concurrency-16', shape: { workers: 2, concurrency: 16 } },
  { name: 'scaling-redis-concurrency-64', shape: { workers: 2, concurrency: 64 } },
  { name: 'scaling-redis-processes-1', shape: { workers: 1, concurrency: 50 } },
  { name: 'scaling-redis-processes-2', shape: { workers: 2, concurrency: 50 } },
  { name: 'scaling-redis-processes-4', shape: { workers: 4, concurrency: 50 } },
];

async function runCurve(context: BenchContext): Promise<Row[]> {
  // Redis's CPU spans every timed round (n flows); a side's rate and worker CPU are its median
  // round's (perRound flows).
  const perRound = context.sizes.throughputFlows;
  const n = perRound * context.sizes.throughputRounds;
  const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const out: Row[] = [];
  let cpu: { ergon: Measured; bull: Measured } | undefined;
  try {
    for (const { name, shape } of CURVE) {
      const ergon = await measure(admin, n, (afterWarmUp) =>
        ergonRedis(1, context, { ...shape, afterWarmUp }),
      );
      const bull = await measure(admin, n, (afterWarmUp) => bullmq(1, context, { ...shape, afterWarmUp }));
      context.log(`  ${name}: ergon ${ergon.perSecond.toFixed(0)}/s, bullmq ${bull.perSecond.toFixed(0)}/s`);
      out.push(
        makeRow(name, {
          unit: 'flows/s',
          better: 'higher',
          ergon: ergon.perSecond,
          peer: 'bullmq jobs',
          peerValue: bull.perSecond,
          extra: { size: perRound, rounds: context.sizes.throughputRounds, ...shape, steps: 1 },
        }),
      );
      if (name === 'scaling-redis-processes-2') cpu = { ergon, bull };
    }
  } finally {
    admin.disconnect();
  }
  if (cpu) {
    const { ergon, bull } = cpu;
    const workerUs = (r: RunResult) => (r.workerCpuMs * 1000) / perRound;
    context.log(
      `  cpu per flow: ergon worker ${workerUs(ergon).toFixed(0)} µs + redis ${ergon.storeUsPerFlow.toFixed(0)} µs; ` +
        `bullmq worker ${workerUs(bull).toFixed(0)} µs + redis ${bull.storeUsPerFlow.toFixed(0)} µs`,
    );
    out.push(
      makeRow('cpu-per-flow-redis-worker', {
        unit: 'µs/flow',
        better: 'lower',
        ergon: workerUs(ergon),
        peer: 'bullmq worker per job',
        peerValue: workerUs(bull),
        extra: {
          size: perRound,
          workers: 2,
          concurrency: 50,
          note: 'worker processes, the median round, enqueue not included',
        },
      }),
      makeRow('cpu-per-flow-redis-store', {
        unit: 'µs/flow',
        better: 'lower',
        ergon: ergon.storeUsPerFlow,
        peer: 'bullmq redis per job',
        peerValue: bull.storeUsPerFlow,
        extra: {
          size: n,
          workers: 2,
          concurrency: 50,
          note: 'redis-server used_cpu over the timed rounds (after the warm-up), enqueue included; other clients of a shared server count too',
        },
      }),
    );
  }
  return out;
}

export const scaling: Bench = {
  id: 'scaling-redis',
  rows: [
    ...CURVE.map(({ name }) => ({ name, unit: 'flows/s', better: 'higher' as const })),
    { name: 'cpu-per-flow-redis-worker', unit: 'µs/flow', better: 'lower' as const },
    { name: 'cpu-per-flow-redis-store', unit: 'µs/flow', better: 'lower' as const },
  ],
  run: runCurve,
};
