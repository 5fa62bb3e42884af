/**
 * Redis Streams, two rows.
 *
 * `connector-redis-streams`: messages/s read, run through a no-op consumer
 * task and acked (`@ergon/connectors-redis-streams` under `@ergon/tasks`'
 * runner), beside a raw ioredis loop (`XREADGROUP … COUNT 100 BLOCK`, parse
 * each JSON payload, one `XACK` for the batch), on streams of the same size,
 * in the same run. After an untimed warm-up of both, each side runs three
 * times, alternating; the best run of each is reported (Redis shares the
 * machine's cores, so other load only ever slows a run).
 *
 * `bridge-redis-streams`: transactions/s through the durable bridge: 3
 * consumer processes read the stream and run each transaction as the
 * one-step flow on one SQLite store, beside bare one-step flows scheduled on
 * a SQLite store and run by 3 worker processes of the same concurrency.
 *
 * @module
 */
import { createRedisStreamsConnector } from '@ergon/connectors-redis-streams';
import { Client } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { ConsumerPolicy, consumer } from '@ergon/tasks';
import { Redis } from 'ioredis';
import type { Bench, BenchContext } from '../lib/bench.js';
import { wallNow } from '../lib/clock.js';
import { REDIS_URL } from '../lib/config.js';
import { oneStep } from '../lib/flows.js';
import { completion, startWorkers, type WorkerProcess } from '../lib/procs.js';
import { makeRow } from '../lib/results.js';
import { pool } from '../lib/runs.js';
import { tempDir, uniqueName } from '../lib/services.js';
import { alternateRounds, roundExtras, roundLog, timeAcks } from './connector-rounds.js';

const BATCH = 100;
const MESSAGES = { full: 50_000, quick: 10_000, smoke: 300 } as const;
const BRIDGE_PROCESSES = 3;
const BRIDGE_CONCURRENCY = 50;

/**
 * Adds `count` small JSON entries (with ids) to `stream`, 1000 per script.
 * Redis writes them itself: a fill from this process (pipelines of XADD)
 * left its commands as garbage in the old generation, which the next timed
 * run then collected, on whichever side allocated enough to start a major
 * GC (the consumer task's: ~0.5 µs CPU per message more in its timed runs).
 */
async function fill(redis: Redis, stream: string, count: number): Promise<void> {
  for (let from = 0; from < count; from += 1000) {
    await redis.eval(FILL_SCRIPT, 1, stream, from, Math.min(count, from + 1000));
  }
}

/** XADD of entries `m-<n>` with payload `{"n":n,"sku":"A-1","quantity":2}` for n from ARGV[1] up to ARGV[2]. */
const FILL_SCRIPT = `for n = tonumber(ARGV[1]), tonumber(ARGV[2]) - 1 do
  redis.call('XADD', KEYS[1], '*', 'id', 'm-' .. n, 'payload', '{"n":' .. n .. ',"sku":"A-1","quantity":2}')
end`;

/** The raw client: XREADGROUP a batch, parse each payload, XACK the batch; ms until `count` acked. */
async function raw(stream: string, count: number): Promise<number> {
  const t0 = performance.now();
  const redis = new Redis(REDIS_URL);
  try {
    await redis.xgroup('CREATE', stream, 'raw', '0', 'MKSTREAM');
    let acked = 0;
    while (acked < count) {
      const reply = (await redis.xreadgroup(
        'GROUP',
        'raw',
        'raw-1',
        'COUNT',
        BATCH,
        'BLOCK',
        100,
        'STREAMS',
        stream,
        '>',
      )) as [string, [string, string[]][]][] | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) continue;
      for (const [, fields] of entries) JSON.parse(fields[3] as string);
      await redis.xack(stream, 'raw', ...entries.map(([id]) => id));
      acked += entries.length;
    }
    return performance.now() - t0;
  } finally {
    redis.disconnect();
  }
}

/** Ergon: a no-op consumer task over the connector; ms until `count` transactions were acked. */
async function ergon(stream: string, count: number): Promise<number> {
  const t0 = performance.now();
  const task = consumer({
    name: 'bench-redis-streams',
    connectors: {
      input: createRedisStreamsConnector({ url: REDIS_URL, stream, maxUnacked: BATCH, block: '100ms' }),
    },
    policies: { consumer: new ConsumerPolicy({ concurrency: BATCH, batchSize: BATCH, limit: count }) },
    processTransaction: async () => undefined,
  });
  return timeAcks(task, count, t0);
}

export const connectorRedisStreams: Bench = {
  id: 'connector-redis-streams',
  rows: [{ name: 'connector-redis-streams', unit: 'messages/s', better: 'higher' }],
  run: async (context: BenchContext) => {
    const count = MESSAGES[context.mode];
    const redis = new Redis(REDIS_URL);
    const streams: string[] = [];
    const side = (consume: (stream: string, n: number) => Promise<number>) => ({
      fill: async (n: number, label: string) => {
        // The stream consumed last goes first (its entries stay until deleted), outside the timed part.
        if (streams.length > 0) await redis.del(...streams);
        const name = uniqueName(`rs-${label}`);
        streams.push(name, `${name}:dead-letter`);
        await fill(redis, name, n);
        return name;
      },
      consume,
    });
    try {
      // Three warm-up rounds of each side (see connector-rounds.ts): the timed runs measure warm code.
      const rates = await alternateRounds({ raw: side(raw), ergon: side(ergon) }, count, count, 3);
      context.log(roundLog(rates, 'ioredis'));
      return [
        makeRow('connector-redis-streams', {
          unit: 'messages/s',
          better: 'higher',
          ergon: Math.max(...rates.ergon),
          peer: 'raw ioredis XREADGROUP/XACK loop',
          peerValue: Math.max(...rates.raw),
          extra: { size: count, batch: BATCH, concurrency: BATCH, ...roundExtras(rates) },
        }),
      ];
    } finally {
      if (streams.length > 0) await redis.del(...streams);
      redis.disconnect();
    }
  },
};

/** Sends `go`, waits for `total` completions, stops the workers; transactions (flows) per second. */
async function drive(workers: WorkerProcess[], total: number): Promise<{ perSecond: number; cpuMs: number }> {
  const done = completion(workers, total, 120_000 + total * 20);
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
  const cpuMs = finals.reduce((sum, f) => sum + Number(f?.cpuMs ?? 0), 0);
  return { perSecond: (total / (end - go)) * 1000, cpuMs };
}

/** `count` transactions through 3 bridge processes on one SQLite store. */
async function bridge(count: number): Promise<{ perSecond: number; cpuMs: number }> {
  const tmp = tempDir();
  const dbPath = `${tmp.dir}/bridge.db`;
  const stream = uniqueName('rs-bridge');
  const redis = new Redis(REDIS_URL);
  let workers: WorkerProcess[] = [];
  try {
    await (await SqliteExecutionLog.open({ path: dbPath })).close();
    await fill(redis, stream, count);
    workers = await startWorkers(
      'bridge-worker',
      BRIDGE_PROCESSES,
      () => ({ redisUrl: REDIS_URL, stream, dbPath, concurrency: BRIDGE_CONCURRENCY }),
      'bridge',
    );
    return await drive(workers, count);
  } finally {
    for (const w of workers) w.kill();
    await redis.del(stream, `${stream}:dead-letter`);
    redis.disconnect();
    tmp.remove();
  }
}

/** `count` bare one-step flows, scheduled first, run by 3 worker processes on one SQLite store. */
async function bareFlows(count: number): Promise<{ perSecond: number; cpuMs: number }> {
  const tmp = tempDir();
  const dbPath = `${tmp.dir}/bare.db`;
  const store = await SqliteExecutionLog.open({ path: dbPath });
  let workers: WorkerProcess[] = [];
  try {
    workers = await startWorkers(
      'ergon-worker',
      BRIDGE_PROCESSES,
      (i) => ({ store: 'sqlite', dbPath, id: `bare-${i}`, concurrency: BRIDGE_CONCURRENCY }),
      'bare',
    );
    const client = new Client({ store });
    await pool(count, 16, (i) => client.schedule(oneStep, undefined, { flowId: `f-${i}` }));
    return await drive(workers, count);
  } finally {
    for (const w of workers) w.kill();
    await store.close();
    tmp.remove();
  }
}

export const bridgeRedisStreams: Bench = {
  id: 'bridge-redis-streams',
  rows: [{ name: 'bridge-redis-streams', unit: 'transactions/s', better: 'higher' }],
  run: async (context: BenchContext) => {
    const count = context.sizes.throughputFlows;
    const through = await bridge(count);
    const bare = await bareFlows(count);
    context.log(
      `  bridge ${through.perSecond.toFixed(0)} tx/s (cpu ${(through.cpuMs / count).toFixed(2)} ms/tx); ` +
        `bare one-step flows ${bare.perSecond.toFixed(0)}/s (cpu ${(bare.cpuMs / count).toFixed(2)} ms/flow)`,
    );
    return [
      makeRow('bridge-redis-streams', {
        unit: 'transactions/s',
        better: 'higher',
        ergon: through.perSecond,
        peer: 'bare one-step flows, same store and processes',
        peerValue: bare.perSecond,
        extra: {
          size: count,
          processes: BRIDGE_PROCESSES,
          concurrency: BRIDGE_CONCURRENCY,
          cpuMsPerTransaction: Number((through.cpuMs / count).toFixed(3)),
          cpuMsPerBareFlow: Number((bare.cpuMs / count).toFixed(3)),
        },
      }),
    ];
  },
};
