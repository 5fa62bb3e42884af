/**
 * Durable timers at scale (Redis, and SQLite as `-sqlite`; 2 worker processes): N flows sleep
 * until a wake time 1–30 s (quick: 1–5 s) after the moment all of them are
 * asleep; the step after the sleep reports its lateness, start − intended wake
 * time. All N are armed (run up to their sleep) before the first one is due, so
 * what is measured is the timers, not the arming. The worker processes' CPU
 * while everything sleeps is recorded as `idleCpuPercent` (of one core, both
 * processes together).
 *
 * @module
 */
import type { ExecutionLog } from '@ergon/core';
import { Client } from '@ergon/executor';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import type { Bench, BenchContext } from '../lib/bench.js';
import { percentile, sleep, wallNow } from '../lib/clock.js';
import { REDIS_URL } from '../lib/config.js';
import { sleeper } from '../lib/flows.js';
import { completion, startWorkers, type WorkerProcess } from '../lib/procs.js';
import { makeRow, type Row } from '../lib/results.js';
import { cpuOf, pool } from '../lib/runs.js';
import { deleteKeys, ergonKeys, tempDir, uniqueName } from '../lib/services.js';

type TimerRow = 'timers-100k-lateness-p99' | 'timers-100k-lateness-p99-sqlite';

/** One store's timers: where its flows live, what its workers open, and its clean-up. */
interface TimerStore {
  readonly kind: 'redis' | 'sqlite';
  readonly store: ExecutionLog;
  readonly worker: Record<string, unknown>;
  readonly remove: () => Promise<void>;
}

async function openRedis(): Promise<TimerStore> {
  const prefix = uniqueName('timers');
  const store = await RedisExecutionLog.open({ url: REDIS_URL, prefix });
  return {
    kind: 'redis',
    store,
    worker: { store: 'redis', redisUrl: REDIS_URL, prefix },
    remove: async () => {
      await deleteKeys(ergonKeys(prefix));
    },
  };
}

async function openSqlite(): Promise<TimerStore> {
  const tmp = tempDir();
  const dbPath = `${tmp.dir}/timers.db`;
  const store = await SqliteExecutionLog.open({ path: dbPath });
  return { kind: 'sqlite', store, worker: { store: 'sqlite', dbPath }, remove: async () => tmp.remove() };
}

export const timers: Bench = {
  id: 'timers-100k-lateness-p99',
  rows: [{ name: 'timers-100k-lateness-p99', unit: 'ms', better: 'lower' }],
  run: (context) => runTimers(context, 'timers-100k-lateness-p99', openRedis),
};

export const timersSqlite: Bench = {
  id: 'timers-100k-lateness-p99-sqlite',
  rows: [{ name: 'timers-100k-lateness-p99-sqlite', unit: 'ms', better: 'lower' }],
  run: (context) => runTimers(context, 'timers-100k-lateness-p99-sqlite', openSqlite),
};

async function runTimers(
  context: BenchContext,
  name: TimerRow,
  open: () => Promise<TimerStore>,
): Promise<Row[]> {
  const { timerFlows: n, timerMinMs: minMs, timerMaxMs: maxMs, workers: count, concurrency } = context.sizes;
  const opened = await open();
  const { store } = opened;
  const client = new Client({ store });
  let workers: WorkerProcess[] = [];
  try {
    workers = await startWorkers(
      'ergon-worker',
      count,
      (i) => ({
        ...opened.worker,
        id: `timers-${i}`,
        concurrency,
        collectLateness: true,
      }),
      `ergon-timers-${opened.kind}`,
    );
    for (const w of workers) w.send({ type: 'go' });

    // Calibration: how fast flows are armed (scheduled and run up to their sleep).
    // These sleep for an hour and stay asleep through the run, extra sleepers.
    const k = Math.max(50, Math.min(2000, Math.ceil(n / 20)));
    const farAway = Date.now() + 3_600_000;
    let t0 = wallNow();
    let armed = completion(workers, k, 120_000 + k * 10, 'suspended');
    await pool(k, 64, (i) => client.schedule(sleeper, { wakeAt: farAway }, { flowId: `cal-${i}` }));
    await armed;
    const rate = k / ((wallNow() - t0) / 1000);
    const estimateMs = (n / rate) * 1000;
    const base = Date.now() + estimateMs * 1.5 + 1000;
    context.log(
      `  arming ~${rate.toFixed(0)} flows/s; ${n} flows wake ${minMs}–${maxMs} ms after +${((base - Date.now()) / 1000).toFixed(1)} s`,
    );

    t0 = wallNow();
    armed = completion(workers, k + n, 300_000 + n * 10, 'suspended');
    await pool(n, 64, (i) =>
      client.schedule(
        sleeper,
        { wakeAt: base + minMs + Math.random() * (maxMs - minMs) },
        { flowId: `t-${i}` },
      ),
    );
    const armDone = await armed;
    const armSeconds = (armDone - t0) / 1000;
    const slackMs = base + minMs - Date.now();
    if (slackMs < 0)
      context.log(`  warning: arming overran the first wake time by ${(-slackMs).toFixed(0)} ms`);

    // Idle CPU while every flow sleeps.
    let idleCpuPercent: number | null = null;
    if (slackMs > 400) {
      await sleep(100);
      const c0 = await cpuOf(workers, 'idle-start');
      const w0 = wallNow();
      await sleep(Math.max(0, base + minMs - Date.now() - 100));
      const c1 = await cpuOf(workers, 'idle-end');
      idleCpuPercent = ((c1 - c0) / (wallNow() - w0)) * 100;
    }

    const finished = completion(workers, n, maxMs + 300_000 + Math.max(0, base - Date.now()));
    await finished;
    const finals = await Promise.all(workers.map((w) => w.stop(30_000)));
    const lateness = finals.flatMap((f) => (f?.lateness as number[] | undefined) ?? []);
    if (lateness.length < n) throw new Error(`only ${lateness.length} of ${n} lateness reports arrived`);
    const p50 = percentile(lateness, 0.5);
    const p99 = percentile(lateness, 0.99);
    const max = Math.max(...lateness);
    // Below −1 ms would be a timer firing early (the clocks compared agree to well under 1 ms).
    const early = lateness.filter((x) => x < -1).length;
    context.log(
      `  lateness p50 ${p50.toFixed(1)} p99 ${p99.toFixed(1)} max ${max.toFixed(1)} ms; idle CPU ${idleCpuPercent?.toFixed(1) ?? '—'} %; armed in ${armSeconds.toFixed(1)} s`,
    );
    return [
      makeRow(name, {
        unit: 'ms',
        better: 'lower',
        ergon: p99,
        extra: {
          size: n,
          sleepMs: [minMs, maxMs],
          extraSleepers: k,
          store: opened.kind,
          workers: count,
          concurrency,
          p50Ms: p50,
          maxMs: max,
          early,
          armSeconds,
          idleCpuPercent,
        },
      }),
    ];
  } finally {
    for (const w of workers) w.kill();
    await store.close();
    await opened.remove();
  }
}
