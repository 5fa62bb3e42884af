/**
 * A DBOS Transact worker process (a peer of the PostgreSQL store's throughput):
 * same protocol as the others, plus a `launched` message. It registers the
 * one-step workflow and launches DBOS on `go`; the parent has registered the
 * queue (`workerConcurrency` = the run's concurrency, a 10 ms dispatch poll
 * where DBOS's default is 1 s: that flatters the peer, not Ergon) and enqueued
 * every workflow before.
 *
 * @module
 */
import { DBOS } from '@dbos-inc/dbos-sdk';
import { wallNow } from '../lib/clock.js';
import { cpuMs, onMessage, Progress, readConfig, send, sendAndExit } from './common.js';

export interface DbosWorkerConfig {
  readonly postgresUrl: string;
  readonly schema: string;
}

const config = readConfig<DbosWorkerConfig>();
const progress = new Progress();

DBOS.setConfig({
  name: 'ergon-bench',
  systemDatabaseUrl: config.postgresUrl,
  systemDatabaseSchemaName: config.schema,
  logLevel: 'error',
});
const step = DBOS.registerStep(async () => 1, { name: 'a' });
DBOS.registerWorkflow(
  async () => {
    const value = await step();
    progress.done();
    return value;
  },
  { name: 'bench-one-step' },
);

onMessage(async (message) => {
  if (message.type === 'go') {
    await DBOS.launch();
    send({ type: 'launched', at: wallNow() });
  } else if (message.type === 'stop') {
    progress.stop();
    await DBOS.shutdown();
    sendAndExit({ type: 'final', count: progress.count, lastAt: progress.lastAt, cpuMs: cpuMs() });
  }
});
send({ type: 'ready', pid: process.pid });
