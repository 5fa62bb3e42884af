/**
 * Recovery after a crash: two worker processes; a flow's step starts on one of
 * them, which is SIGKILLed a moment later; the figure is the time from the kill
 * to the step starting again on the other. Ergon runs with its defaults (lease
 * 15 s, heartbeat every 5 s; worker registry heartbeat 500 ms, lapse 2 s, a dead
 * process on the same host seen at once), on Redis (the row) and on SQLite
 * (`sqliteSeconds`); BullMQ with its defaults (lockDuration 30 s,
 * stalledInterval 30 s). The two run side by side (their timings are in seconds),
 * and alongside the other benchmarks (the processes here sit idle while they wait).
 *
 * @module
 */
import type { ExecutionLog } from '@ergon/core';
import { Client } from '@ergon/executor';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { Queue } from 'bullmq';
import type { Bench, BenchContext } from '../lib/bench.js';
import { median, sleep, wallNow } from '../lib/clock.js';
import { REDIS_URL } from '../lib/config.js';
import { hang } from '../lib/flows.js';
import { firstMessage, startWorkers, type WorkerProcess } from '../lib/procs.js';
import { makeRow } from '../lib/results.js';
import { bullConnection, deleteKeys, ergonKeys, tempDir, uniqueName } from '../lib/services.js';

/** How long the step runs before its worker is killed. */
const KILL_AFTER_MS = 1000;
const ERGON_DEFAULT_LEASE_S = 15;

async function killAndWait(workers: WorkerProcess[], enqueue: () => Promise<unknown>): Promise<number> {
  const first = firstMessage(workers, (m) => m.type === 'hang', 30_000, 'step start');
  await enqueue();
  const { worker: victim } = await first;
  await sleep(KILL_AFTER_MS);
  const survivor = workers.find((w) => w !== victim) as WorkerProcess;
  const again = survivor.waitFor((m) => m.type === 'hang', 180_000, 'step start after the kill');
  const killedAt = wallNow();
  victim.kill();
  const { at } = await again;
  return ((at as number) - killedAt) / 1000;
}

async function ergonTrial(context: BenchContext, trial: number): Promise<number> {
  const prefix = uniqueName(`recovery${trial}`);
  const store = await RedisExecutionLog.open({ url: REDIS_URL, prefix });
  try {
    return await ergonKill(context, store, { store: 'redis', redisUrl: REDIS_URL, prefix }, 'ergon-recovery');
  } finally {
    await store.close();
    await deleteKeys(ergonKeys(prefix));
  }
}

async function sqliteTrial(context: BenchContext, trial: number): Promise<number> {
  const tmp = tempDir();
  const dbPath = `${tmp.dir}/recovery-${trial}.db`;
  const store = await SqliteExecutionLog.open({ path: dbPath });
  try {
    return await ergonKill(context, store, { store: 'sqlite', dbPath }, 'ergon-recovery-sqlite');
  } finally {
    await store.close();
    tmp.remove();
  }
}

async function ergonKill(
  context: BenchContext,
  store: ExecutionLog,
  config: { store: 'redis' | 'sqlite'; redisUrl?: string; prefix?: string; dbPath?: string },
  label: string,
): Promise<number> {
  const short = context.sizes.recoveryShort;
  let workers: WorkerProcess[] = [];
  try {
    workers = await startWorkers(
      'ergon-worker',
      2,
      (i) => ({ ...config, id: `recovery-${i}`, ...(short ? { lease: '1s', heartbeat: '250ms' } : {}) }),
      label,
    );
    for (const w of workers) w.send({ type: 'go' });
    await sleep(200);
    const client = new Client({ store });
    return await killAndWait(workers, () => client.schedule(hang, undefined));
  } finally {
    for (const w of workers) w.kill();
  }
}

async function bullTrial(context: BenchContext, trial: number): Promise<number> {
  const prefix = uniqueName(`bull-recovery${trial}`);
  const queue = new Queue('recovery', { connection: bullConnection(REDIS_URL), prefix });
  const short = context.sizes.recoveryShort;
  let workers: WorkerProcess[] = [];
  try {
    workers = await startWorkers(
      'bullmq-worker',
      2,
      () => ({
        redisUrl: REDIS_URL,
        prefix,
        queue: 'recovery',
        scenario: 'hang',
        ...(short ? { lockDuration: 1000, stalledInterval: 500 } : {}),
      }),
      'bullmq-recovery',
    );
    for (const w of workers) w.send({ type: 'go' });
    await sleep(200);
    return await killAndWait(workers, () => queue.add('hang', {}));
  } finally {
    for (const w of workers) w.kill();
    await queue.close();
    await deleteKeys(`${prefix}:*`);
  }
}

async function series(context: BenchContext, trial: (c: BenchContext, i: number) => Promise<number>) {
  const out: number[] = [];
  for (let i = 0; i < context.sizes.recoveryTrials; i++) out.push(await trial(context, i));
  return out;
}

export const recovery: Bench = {
  id: 'recovery-after-kill',
  background: true,
  rows: [{ name: 'recovery-after-kill', unit: 's', better: 'lower' }],
  run: async (context) => {
    const [ergon, bull] = await Promise.all([series(context, ergonTrial), series(context, bullTrial)]);
    const sqlite = await series(context, sqliteTrial);
    const short = context.sizes.recoveryShort;
    context.log(
      `  ergon redis ${ergon.map((x) => x.toFixed(2)).join(' ')} s, sqlite ${sqlite.map((x) => x.toFixed(2)).join(' ')} s; ` +
        `bullmq ${bull.map((x) => x.toFixed(2)).join(' ')} s`,
    );
    return [
      makeRow('recovery-after-kill', {
        unit: 's',
        better: 'lower',
        ergon: median(ergon),
        peer: short ? 'bullmq (lockDuration 1 s, stalledInterval 0.5 s: smoke only)' : 'bullmq (defaults)',
        peerValue: median(bull),
        extra: {
          size: context.sizes.recoveryTrials,
          trials: { ergon, peer: bull, sqlite },
          sqliteSeconds: median(sqlite),
          leaseSeconds: short ? 1 : ERGON_DEFAULT_LEASE_S,
          ergonSettings: short
            ? 'lease 1 s, heartbeat 250 ms (smoke only)'
            : 'defaults (lease 15 s, heartbeat 5 s; registry heartbeat 500 ms, lapse 2 s)',
          killAfterStepStartMs: KILL_AFTER_MS,
          ranAlongsideOtherBenchmarks: true,
          store: 'redis',
        },
      }),
    ];
  },
};
