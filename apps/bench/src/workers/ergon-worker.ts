/**
 * An Ergon worker process. Opens the store named in its configuration, builds a
 * `Worker` (not started), says `ready`; `go` starts it (or resumes it), `pause`
 * pauses it (`Worker.pause`: its runs finish, it claims nothing more, it stays
 * registered, as BullMQ's `pause` and the pg-boss loop's), `stop` stops it and
 * sends a `final` report. Steps report through IPC (see `hooks`).
 *
 * @module
 */
import type { ExecutionLog } from '@ergon/core';
import { Worker } from '@ergon/executor';
import { ALL_FLOWS, hooks } from '../lib/flows.js';
import { cpuMs, onMessage, Progress, readConfig, send, sendAndExit } from './common.js';

export interface ErgonWorkerConfig {
  readonly store: 'redis' | 'sqlite' | 'postgres' | 'redis-cluster';
  readonly redisUrl?: string;
  /** `redis-cluster`: the cluster's nodes (a Cluster client of the worker's own). */
  readonly clusterNodes?: readonly { host: string; port: number }[];
  /** `redis-cluster`: the store's `waitForReplicas` option. */
  readonly waitForReplicas?: { replicas: number; timeoutMs: number };
  readonly prefix?: string;
  readonly dbPath?: string;
  readonly postgresUrl?: string;
  readonly schema?: string;
  readonly id: string;
  readonly concurrency?: number;
  readonly lease?: string;
  readonly heartbeat?: string;
  /** Keep every timer lateness for the final report. */
  readonly collectLateness?: boolean;
}

const config = readConfig<ErgonWorkerConfig>();

async function openStore(): Promise<ExecutionLog> {
  if (config.store === 'sqlite') {
    const { SqliteExecutionLog } = await import('@ergon/storage-sqlite');
    return SqliteExecutionLog.open({ path: config.dbPath as string });
  }
  if (config.store === 'postgres') {
    const { PostgresExecutionLog } = await import('@ergon/storage-postgres');
    return PostgresExecutionLog.open({ url: config.postgresUrl, schema: config.schema });
  }
  const { RedisExecutionLog } = await import('@ergon/storage-redis');
  if (config.store === 'redis-cluster') {
    const { Cluster } = await import('ioredis');
    const redis = new Cluster([...(config.clusterNodes ?? [])], {
      enableAutoPipelining: true,
      redisOptions: { commandTimeout: 10_000, maxRetriesPerRequest: 20 },
    });
    return RedisExecutionLog.open({ redis, prefix: config.prefix, waitForReplicas: config.waitForReplicas });
  }
  return RedisExecutionLog.open({ url: config.redisUrl, prefix: config.prefix });
}

const progress = new Progress();
const lateness: number[] = [];
hooks.onStart = (id, at) => send({ type: 'started', id, at });
hooks.onHang = (at) => send({ type: 'hang', at, pid: process.pid });
hooks.onWake = (lateMs) => {
  if (config.collectLateness) lateness.push(Math.round(lateMs * 1000) / 1000);
};

const store = await openStore();
const worker = new Worker({
  store,
  flows: ALL_FLOWS,
  id: config.id,
  ...(config.concurrency === undefined ? {} : { concurrency: config.concurrency }),
  ...(config.lease === undefined ? {} : { lease: config.lease }),
  ...(config.heartbeat === undefined ? {} : { heartbeat: config.heartbeat }),
  onOutcome: (_flowId, outcome) => {
    if (outcome.status === 'completed') progress.done();
    else if (outcome.status === 'suspended') progress.suspended++;
    else if (outcome.status !== 'abandoned') send({ type: 'outcome', status: outcome.status });
  },
});

onMessage(async (message) => {
  if (message.type === 'go') {
    if (worker.paused) worker.resume();
    else worker.start();
  } else if (message.type === 'pause') {
    // After a warm-up or a timed round: finish what it runs and claim nothing until the next `go`.
    await worker.pause({ timeout: '2s' });
    progress.reset();
    send({ type: 'paused' });
  } else if (message.type === 'stop') {
    await worker.stop({ timeout: '2s' });
    progress.stop();
    await store.close();
    sendAndExit({ type: 'final', count: progress.count, lastAt: progress.lastAt, lateness, cpuMs: cpuMs() });
  }
});
send({ type: 'ready', pid: process.pid });
