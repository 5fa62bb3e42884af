/**
 * A pg-boss worker process (the peer of the SQLite store's throughput): same
 * protocol as the others. It fetches up to `concurrency` jobs at a time, runs
 * them concurrently and completes them in one call, in a tight loop.
 *
 * pg-boss's own `work()` does the same but waits out `pollingIntervalSeconds`
 * (at least 0.5 s) between fetches whenever a batch finishes sooner, which
 * would cap it at `concurrency` jobs per half second per process; the loop
 * here is pg-boss at its fastest, so the comparison flatters the peer, not Ergon.
 * The warm-up runs on a queue of its own (`warmQueue`, its own partition of
 * pg-boss's job table), and each timed round on another (a `pause` names the
 * next), so no timed round's fetches pass finished jobs.
 *
 * @module
 */
import PgBoss from 'pg-boss';
import { sleep } from '../lib/clock.js';
import { cpuMs, onMessage, Progress, readConfig, send, sendAndExit } from './common.js';

export interface PgBossWorkerConfig {
  readonly postgresUrl: string;
  readonly schema: string;
  readonly queue: string;
  /** The queue of the warm-up batch (until the first `pause`). */
  readonly warmQueue: string;
  readonly concurrency: number;
}

const config = readConfig<PgBossWorkerConfig>();
const progress = new Progress();
const boss = new PgBoss({
  connectionString: config.postgresUrl,
  schema: config.schema,
  supervise: false,
  schedule: false,
  migrate: false,
});
boss.on('error', (error) => console.error(`pg-boss worker: ${error.message}`));
await boss.start();

let stopping = false;
let queue = config.warmQueue;
let loop: Promise<void> | undefined;

async function run(): Promise<void> {
  while (!stopping) {
    const jobs = await boss.fetch<object>(queue, { batchSize: config.concurrency });
    if (jobs.length === 0) {
      await sleep(5);
      continue;
    }
    await Promise.all(jobs.map(async () => 1));
    await boss.complete(
      queue,
      jobs.map((job) => job.id),
    );
    progress.done(jobs.length);
  }
}

onMessage(async (message) => {
  if (message.type === 'go') {
    stopping = false;
    loop = run().catch((error: Error) => console.error(`pg-boss loop: ${error.message}`));
  } else if (message.type === 'pause') {
    // After a warm-up or a timed round: finish the fetched batch and fetch no more until the
    // next `go`, then from the queue the message names (the timed run's after the warm-up).
    stopping = true;
    await loop;
    queue = typeof message.queue === 'string' ? message.queue : config.queue;
    progress.reset();
    send({ type: 'paused' });
  } else if (message.type === 'stop') {
    stopping = true;
    await loop;
    progress.stop();
    await boss.stop({ graceful: false, wait: true });
    sendAndExit({ type: 'final', count: progress.count, lastAt: progress.lastAt, cpuMs: cpuMs() });
  }
});
send({ type: 'ready', pid: process.pid });
