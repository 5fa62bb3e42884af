/**
 * A BullMQ worker process, the peer of `ergon-worker`: same protocol
 * (`ready`, `go`, `stop` → `final`), BullMQ's defaults except where the
 * configuration says otherwise (concurrency, for throughput).
 *
 * @module
 */
import { type Job, Worker } from 'bullmq';
import { wallNow } from '../lib/clock.js';
import { bullConnection } from '../lib/services.js';
import { cpuMs, onMessage, Progress, readConfig, send, sendAndExit } from './common.js';

export interface BullWorkerConfig {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly queue: string;
  /** `jobs`: no-op jobs; `chain`: count only the last job (`c3`) of each chain; `probe`; `hang`. */
  readonly scenario: 'jobs' | 'chain' | 'probe' | 'hang';
  readonly concurrency?: number;
  /** Smoke runs only: shorter lock and stalled check, so recovery fits in seconds. */
  readonly lockDuration?: number;
  readonly stalledInterval?: number;
}

const config = readConfig<BullWorkerConfig>();
const progress = new Progress();

async function processor(job: Job): Promise<unknown> {
  if (config.scenario === 'probe') {
    send({ type: 'started', id: (job.data as { id: number }).id, at: wallNow() });
    return 1;
  }
  if (config.scenario === 'hang') {
    send({ type: 'hang', at: wallNow(), pid: process.pid });
    await new Promise((resolve) => setTimeout(resolve, 600_000));
    return 'done';
  }
  return 1;
}

const worker = new Worker(config.queue, processor, {
  connection: bullConnection(config.redisUrl),
  prefix: config.prefix,
  autorun: false,
  ...(config.concurrency === undefined ? {} : { concurrency: config.concurrency }),
  ...(config.lockDuration === undefined ? {} : { lockDuration: config.lockDuration }),
  ...(config.stalledInterval === undefined ? {} : { stalledInterval: config.stalledInterval }),
});
worker.on('completed', (job) => {
  if (config.scenario !== 'chain' || job.name === 'c3') progress.done();
});
worker.on('error', (error) => console.error(`bullmq worker: ${error.message}`));
await worker.waitUntilReady();

onMessage(async (message) => {
  if (message.type === 'go') {
    if (worker.isPaused()) worker.resume();
    else worker.run().catch((error: Error) => console.error(`bullmq worker run: ${error.message}`));
  } else if (message.type === 'pause') {
    // After a warm-up: finish the active jobs and take no more until the next `go`.
    await worker.pause();
    progress.reset();
    send({ type: 'paused' });
  } else if (message.type === 'stop') {
    await worker.close(true);
    progress.stop();
    sendAndExit({ type: 'final', count: progress.count, lastAt: progress.lastAt, cpuMs: cpuMs() });
  }
});
send({ type: 'ready', pid: process.pid });
