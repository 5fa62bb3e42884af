/**
 * Resume with a long history, in process on SQLite (the default store): a flow
 * runs 10,000 steps and suspends on a signal; the signal is sent, and the
 * figure is the time `executor.resume()` takes to claim the flow, load and
 * replay its 10,000 finished steps, take the signal and complete. The same on
 * Redis is recorded as `redisMs`.
 *
 * @module
 */
import type { ExecutionLog } from '@ergon/core';
import { Client, Executor } from '@ergon/executor';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import type { Bench, BenchContext } from '../lib/bench.js';
import { median } from '../lib/clock.js';
import { REDIS_URL } from '../lib/config.js';
import { longHistory } from '../lib/flows.js';
import { makeRow } from '../lib/results.js';
import { deleteKeys, ergonKeys, tempDir, uniqueName } from '../lib/services.js';

async function trials(store: ExecutionLog, context: BenchContext) {
  const steps = context.sizes.resumeSteps;
  const executor = new Executor({ store, flows: [longHistory] });
  const client = new Client({ store });
  const resumeMs: number[] = [];
  const armMs: number[] = [];
  for (let trial = 0; trial < context.sizes.resumeTrials; trial++) {
    const flowId = `long-${trial}`;
    let t0 = performance.now();
    const first = await executor.execute(longHistory, steps, { flowId });
    armMs.push(performance.now() - t0);
    if (first.status !== 'suspended') throw new Error(`the long flow ended ${first.status}, not suspended`);
    await client.signal(flowId, 'go', trial);
    t0 = performance.now();
    const outcome = await executor.resume(flowId);
    resumeMs.push(performance.now() - t0);
    if (outcome.status !== 'completed') throw new Error(`the resumed flow ended ${outcome.status}`);
  }
  return { resumeMs: median(resumeMs), all: resumeMs, armMs: median(armMs) };
}

export const resume: Bench = {
  id: 'resume-10k-steps',
  rows: [{ name: 'resume-10k-steps', unit: 'ms', better: 'lower' }],
  run: async (context) => {
    const tmp = tempDir();
    const sqlite = await SqliteExecutionLog.open({ path: `${tmp.dir}/resume.db` });
    let onSqlite: Awaited<ReturnType<typeof trials>>;
    try {
      onSqlite = await trials(sqlite, context);
    } finally {
      await sqlite.close();
      tmp.remove();
    }
    const prefix = uniqueName('resume');
    const redis = await RedisExecutionLog.open({ url: REDIS_URL, prefix });
    let onRedis: Awaited<ReturnType<typeof trials>>;
    try {
      onRedis = await trials(redis, context);
    } finally {
      await redis.close();
      await deleteKeys(ergonKeys(prefix));
    }
    context.log(
      `  sqlite ${onSqlite.all.map((x) => x.toFixed(1)).join(' ')} ms (first run ${onSqlite.armMs.toFixed(0)} ms); ` +
        `redis ${onRedis.all.map((x) => x.toFixed(1)).join(' ')} ms (first run ${onRedis.armMs.toFixed(0)} ms)`,
    );
    return [
      makeRow('resume-10k-steps', {
        unit: 'ms',
        better: 'lower',
        ergon: onSqlite.resumeMs,
        extra: {
          size: context.sizes.resumeSteps,
          trials: context.sizes.resumeTrials,
          store: 'sqlite',
          firstRunMs: onSqlite.armMs,
          redisMs: onRedis.resumeMs,
          redisFirstRunMs: onRedis.armMs,
        },
      }),
    ];
  },
};
