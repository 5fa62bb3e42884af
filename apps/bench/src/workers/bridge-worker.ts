/**
 * A consumer task process for the `bridge-redis-streams` row: reads a Redis
 * stream, runs each transaction as the one-step flow through the durable
 * bridge on a SQLite store, acks. Says `ready` once the store is open; `go`
 * starts the task, `stop` stops it (draining) and sends a `final` report.
 *
 * @module
 */
import { createRedisStreamsConnector } from '@ergon/connectors-redis-streams';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { ConsumerPolicy, consumer, durable, startTask, type TaskRun } from '@ergon/tasks';
import { oneStep } from '../lib/flows.js';
import { cpuMs, onMessage, Progress, readConfig, send, sendAndExit } from './common.js';

export interface BridgeWorkerConfig {
  readonly redisUrl: string;
  readonly stream: string;
  readonly dbPath: string;
  readonly concurrency: number;
}

const config = readConfig<BridgeWorkerConfig>();
const store = await SqliteExecutionLog.open({ path: config.dbPath });
const progress = new Progress();

const task = consumer({
  name: 'bench-bridge',
  connectors: {
    input: createRedisStreamsConnector({
      url: config.redisUrl,
      stream: config.stream,
      maxUnacked: config.concurrency,
      block: '100ms',
    }),
  },
  policies: {
    consumer: new ConsumerPolicy({
      concurrency: config.concurrency,
      batchSize: config.concurrency,
      emptyQueue: { initialDelay: '10ms', maxDelay: '50ms' },
    }),
  },
  processTransaction: durable(oneStep, { store }),
  handleSuccess: () => progress.done(),
});

let run: TaskRun | undefined;
onMessage(async (message) => {
  if (message.type === 'go') {
    run = startTask(task, { handleSignals: false });
  } else if (message.type === 'stop') {
    await run?.stop({ timeout: '2s' });
    progress.stop();
    await store.close();
    sendAndExit({ type: 'final', count: progress.count, lastAt: progress.lastAt, cpuMs: cpuMs() });
  }
});
send({ type: 'ready', pid: process.pid });
