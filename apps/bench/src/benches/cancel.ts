/**
 * Cancel latency (DESIGN §7: "cancel of a running flow seen and finished: under
 * 100 ms"): a worker with the default lease (15 s, so a heartbeat every 5 s)
 * runs a flow whose step waits until its signal aborts; the figure is the time
 * from `client.cancel(id)` to the flow's status being `cancelled`, as a client
 * in the same process sees it. The median on SQLite (the default store) is the
 * row; Redis is recorded beside it.
 *
 * @module
 */
import type { ExecutionLog } from '@ergon/core';
import { Client, flow, Worker } from '@ergon/executor';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import type { Bench, BenchContext } from '../lib/bench.js';
import { median, percentile } from '../lib/clock.js';
import { REDIS_URL } from '../lib/config.js';
import { makeRow } from '../lib/results.js';
import { deleteKeys, ergonKeys, tempDir, uniqueName } from '../lib/services.js';

/** Runs until cancelled: the step resolves only when its signal aborts. */
const untilCancelled = flow('bench-until-cancelled', async (ctx) => {
  await ctx.run('wait-for-abort', (scope) => {
    return new Promise<never>((_, reject) => {
      const signal = scope.signal;
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  });
});

async function trials(store: ExecutionLog, context: BenchContext): Promise<number[]> {
  const worker = new Worker({ store, flows: [untilCancelled], concurrency: 4 }).start();
  const client = new Client({ store });
  const samples: number[] = [];
  try {
    for (let trial = 0; trial < context.sizes.cancelTrials; trial++) {
      const handle = await client.schedule(untilCancelled, undefined);
      // Wait until the step runs (a waiting record is not written: poll the flow's status).
      for (let i = 0; (await handle.status()) !== 'running'; i++) {
        if (i > 2000) throw new Error('the flow never started running');
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await new Promise((resolve) => setTimeout(resolve, 5)); // inside the step by now
      const t0 = performance.now();
      await client.cancel(handle.id, 'bench');
      await handle.result().catch(() => undefined);
      samples.push(performance.now() - t0);
    }
  } finally {
    await worker.stop({ timeout: '2s' });
  }
  return samples;
}

export const cancelLatency: Bench = {
  id: 'cancel-latency',
  rows: [{ name: 'cancel-latency', unit: 'ms', better: 'lower' }],
  run: async (context) => {
    const tmp = tempDir();
    const sqlite = await SqliteExecutionLog.open({ path: `${tmp.dir}/cancel.db` });
    let onSqlite: number[];
    try {
      onSqlite = await trials(sqlite, context);
    } finally {
      await sqlite.close();
      tmp.remove();
    }
    const prefix = uniqueName('cancel');
    const redis = await RedisExecutionLog.open({ url: REDIS_URL, prefix });
    let onRedis: number[];
    try {
      onRedis = await trials(redis, context);
    } finally {
      await redis.close();
      await deleteKeys(ergonKeys(prefix));
    }
    context.log(
      `  sqlite median ${median(onSqlite).toFixed(1)} ms, p99 ${percentile(onSqlite, 0.99).toFixed(1)} ms; ` +
        `redis median ${median(onRedis).toFixed(1)} ms, p99 ${percentile(onRedis, 0.99).toFixed(1)} ms`,
    );
    return [
      makeRow('cancel-latency', {
        unit: 'ms',
        better: 'lower',
        ergon: median(onSqlite),
        extra: {
          store: 'sqlite',
          size: context.sizes.cancelTrials,
          lease: '15s (default)',
          p99Ms: percentile(onSqlite, 0.99),
          redisMs: median(onRedis),
          redisP99Ms: percentile(onRedis, 0.99),
        },
      }),
    ];
  },
};
