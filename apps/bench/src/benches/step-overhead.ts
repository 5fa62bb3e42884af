/**
 * Step overhead, in process: µs per step of a 100-step no-op flow run by the
 * `Executor`, against the raw driver writing the same history record (one
 * round trip per record, awaited one after another as the engine does).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionLog, OperationRecord } from '@ergon/core';
import { Executor } from '@ergon/executor';
import { RedisExecutionLog } from '@ergon/storage-redis';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import type { Bench, BenchContext } from '../lib/bench.js';
import { median } from '../lib/clock.js';
import { REDIS_URL } from '../lib/config.js';
import { noopSteps } from '../lib/flows.js';
import { makeRow, type Row } from '../lib/results.js';
import { deleteKeys, ergonKeys, tempDir, uniqueName } from '../lib/services.js';

/** µs per step over `flows` flows of `steps` steps. */
export async function timeFlows(executor: Executor, flows: number, steps: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < flows; i++) {
    const outcome = await executor.execute(noopSteps, steps);
    if (outcome.status !== 'completed') throw new Error(`a no-op flow ended ${outcome.status}`);
  }
  return Number(process.hrtime.bigint() - start) / 1000 / (flows * steps);
}

/** One history record exactly as the engine wrote it (position 1 of a finished flow). */
async function sampleRecord(
  store: ExecutionLog,
  executor: Executor,
  steps: number,
): Promise<OperationRecord> {
  const flowId = randomUUID();
  await executor.execute(noopSteps, steps, { flowId });
  const history = await store.getHistory(flowId);
  const record = history[1];
  if (!record) throw new Error('no history to sample');
  return record;
}

export interface Side {
  readonly name: string;
  readonly store: ExecutionLog;
  /** The raw driver writing `count` records like `sample`, one at a time; µs per record. */
  readonly raw: (sample: OperationRecord, count: number, round: number) => Promise<number>;
  readonly close: () => Promise<void>;
}

export async function measure(side: Side, context: BenchContext) {
  const { stepFlows, stepsPerFlow, stepRounds } = context.sizes;
  const executor = new Executor({ store: side.store });
  // Warm-up: JIT, page cache, connections, script cache.
  await timeFlows(executor, Math.max(2, stepFlows * 2), stepsPerFlow);
  const sample = await sampleRecord(side.store, executor, stepsPerFlow);
  await side.raw(sample, stepsPerFlow * 5, -1);
  const ergon: number[] = [];
  const raw: number[] = [];
  // Alternate so drift (page cache, CPU frequency) hits both sides alike.
  for (let round = 0; round < stepRounds; round++) {
    ergon.push(await timeFlows(executor, stepFlows, stepsPerFlow));
    raw.push(await side.raw(sample, stepFlows * stepsPerFlow, round));
  }
  const range = (xs: number[]) =>
    `median ${median(xs).toFixed(1)} (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`;
  context.log(`  ${side.name}: ergon ${range(ergon)} µs/step; raw ${range(raw)} µs/record`);
  return {
    ergon: median(ergon),
    raw: median(raw),
    ergonMin: Math.min(...ergon),
    rawMin: Math.min(...raw),
    recordBytes: JSON.stringify(sample).length,
  };
}

async function sqliteSide(): Promise<Side> {
  const tmp = tempDir();
  const store = await SqliteExecutionLog.open({ path: `${tmp.dir}/store.db` });
  const db = new Database(`${tmp.dir}/raw.db`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`create table history (flow_id text not null, position integer not null, key text not null,
    kind text not null, status text not null, attempts integer not null, result text, error text,
    wake_at integer, started_at integer not null, finished_at integer, seq integer)`);
  const insert = db.prepare('insert into history values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  return {
    name: 'sqlite',
    store,
    raw: async (r, count, round) => {
      const flowId = `raw-${round}`;
      const start = process.hrtime.bigint();
      for (let i = 0; i < count; i++) {
        insert.run(
          flowId,
          i,
          r.key,
          r.kind,
          r.status,
          r.attempts,
          r.result ?? null,
          r.error ?? null,
          r.wakeAt ?? null,
          r.startedAt,
          r.finishedAt ?? null,
          r.seq ?? null,
        );
      }
      return Number(process.hrtime.bigint() - start) / 1000 / count;
    },
    close: async () => {
      await store.close();
      db.close();
      tmp.remove();
    },
  };
}

async function redisSide(): Promise<Side> {
  const prefix = uniqueName('steps');
  const store = await RedisExecutionLog.open({ url: REDIS_URL, prefix });
  const redis = new Redis(REDIS_URL);
  const rawKey = `{${prefix}}:raw`;
  return {
    name: 'redis',
    store,
    raw: async (r, count, round) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < count; i++) {
        await redis.hset(`${rawKey}:${round}`, String(i), JSON.stringify({ ...r, position: i }));
      }
      return Number(process.hrtime.bigint() - start) / 1000 / count;
    },
    close: async () => {
      await store.close();
      redis.disconnect();
      await deleteKeys(ergonKeys(prefix));
    },
  };
}

async function run(
  name: 'step-overhead-sqlite' | 'step-overhead-redis',
  open: () => Promise<Side>,
  peer: string,
  context: BenchContext,
): Promise<Row[]> {
  const side = await open();
  try {
    const m = await measure(side, context);
    return [
      makeRow(name, {
        unit: 'µs/step',
        better: 'lower',
        ergon: m.ergon,
        peer,
        peerValue: m.raw,
        extra: {
          size: {
            flows: context.sizes.stepFlows * context.sizes.stepRounds,
            stepsPerFlow: context.sizes.stepsPerFlow,
            rounds: context.sizes.stepRounds,
          },
          ergonMinUs: m.ergonMin,
          peerMinUs: m.rawMin,
          recordBytes: m.recordBytes,
        },
      }),
    ];
  } finally {
    await side.close();
  }
}

export const stepOverheadSqlite: Bench = {
  id: 'step-overhead-sqlite',
  rows: [{ name: 'step-overhead-sqlite', unit: 'µs/step', better: 'lower' }],
  run: (context) =>
    run('step-overhead-sqlite', sqliteSide, 'better-sqlite3 INSERT (WAL, synchronous NORMAL)', context),
};

export const stepOverheadRedis: Bench = {
  id: 'step-overhead-redis',
  rows: [{ name: 'step-overhead-redis', unit: 'µs/step', better: 'lower' }],
  run: (context) => run('step-overhead-redis', redisSide, 'ioredis HSET round trip', context),
};
